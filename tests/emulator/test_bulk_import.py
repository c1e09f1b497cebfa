"""Bulk import (POST /v1/transition/{workspace_id}) as MoEngage documents it."""

from __future__ import annotations

import json
import time
from pathlib import Path

import orjson
import pytest

from moengage_pipelines import limits
from tests.emulator.conftest import (
    WORKSPACE,
    action,
    customer,
    data_client,
    event,
    transition,
)

PATH = f"/v1/transition/{WORKSPACE}"
EXAMPLES = Path(__file__).parent / "conformance" / "data" / "real-world-requests.json"


def post(client, body, **kw):
    return client.post(PATH, json=body, **kw)


def error_of(response):
    body = response.json()
    assert body["status"] == "fail"
    assert isinstance(body["error"]["request_id"], str) and len(body["error"]["request_id"]) == 8
    return body["error"]


def test_success_body_and_data_kept(moengage_emulator, data):
    body = transition(
        customer("user-1", name="Ada", first_name="A"),
        event("user-1", action("Purchase", platform="ANDROID", attributes={"revenue": 10})),
        customer("user-2", name="Bob"),
        event("user-2", action("Viewed", platform="iOS"), action("Purchase", platform="iOS")),
    )
    response = post(data, body)
    assert response.status_code == 200
    payload = response.json()
    assert payload["status"] == "success"
    assert payload["message"] == "Your request has been accepted and will be processed soon."
    assert len(payload["request_id"]) == 8
    assert moengage_emulator.inspect.users() == {
        "user-1": {"name": "Ada", "first_name": "A"},
        "user-2": {"name": "Bob"},
    }
    events = moengage_emulator.inspect.events()
    assert [(e["customer_id"], e["action"]) for e in events] == [
        ("user-1", "Purchase"),
        ("user-2", "Viewed"),
        ("user-2", "Purchase"),
    ]
    assert events[0]["attributes"] == {"revenue": 10}
    assert all(e["request_id"] == payload["request_id"] for e in events)


def test_users_upserted_and_attributes_merged(moengage_emulator, data):
    post(data, transition(customer("user-1", name="Ada", city="Paris")))
    post(data, transition(customer("user-1", city="Lyon", plan="pro")))
    assert moengage_emulator.inspect.users() == {
        "user-1": {"name": "Ada", "city": "Lyon", "plan": "pro"}
    }
    record = moengage_emulator.inspect.user("user-1")
    assert len(record["moengage_id"]) == 24


def test_array_operators_and_platforms(moengage_emulator, data):
    post(
        data,
        transition(
            customer("user-1", tags=["a"], platforms=[{"platform": "ANDROID", "active": "true"}])
        ),
    )
    post(data, transition(customer("user-1", addValueToArrayField={"tags": ["b", "c"]})))
    post(data, transition(customer("user-1", removeValueFromArrayField={"tags": ["a"]})))
    record = moengage_emulator.inspect.user("user-1")
    assert record["attributes"] == {"tags": ["b", "c"]}
    assert record["platforms"] == {"ANDROID": "true"}


def test_add_and_remove_same_array_is_400(data):
    body = transition(
        customer("user-1", addValueToArrayField={"x": [1]}, removeValueFromArrayField={"x": [2]})
    )
    response = post(data, body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["type"] == "ArrayFieldError"
    assert error["message"] == "Cannot add and remove 'x' at the same time"


@pytest.mark.parametrize(
    ("body", "attribute", "type_", "message"),
    [
        (transition(), "elements", "MissingAttributeError", "elements cannot be empty array"),
        (
            {"type": "transition"},
            "elements",
            "MissingAttributeError",
            "elements is not found in the payload",
        ),
        (
            {"type": "transition", "elements": {}},
            "elements",
            "AttributeError",
            "elements is expected to be List",
        ),
        (
            transition({"type": "user", "customer_id": "u1"}),
            "type",
            "AttributeError",
            "type in elements should be customer/event/device",
        ),
        (
            transition("not an object"),
            "type",
            "AttributeError",
            "type in elements should be customer/event/device",
        ),
        (
            transition({"type": "customer", "attributes": {}}),
            "customer_id",
            "MissingAttributeError",
            "customer_id is not found in the payload",
        ),
        (
            transition(event("user-1", action(""))),
            "action",
            "MissingAttributeError",
            "action cannot be empty Unicode string",
        ),
        (
            transition(event("user-1", {"attributes": {}})),
            "action",
            "MissingAttributeError",
            "action cannot be empty Unicode string",
        ),
        (
            transition({"type": "event", "customer_id": "user-1", "actions": []}),
            "actions",
            "MissingAttributeError",
            "actions can not be empty Array",
        ),
        (
            transition(customer("   ")),
            "customer_id",
            "MissingAttributeError",
            "customer_id can not be empty Unicode String",
        ),
        (
            {"type": "Transition", "elements": [customer("user-1")]},
            "type",
            "AttributeError",
            "type should be transition",
        ),
    ],
)
def test_documented_400s(moengage_emulator, data, body, attribute, type_, message):
    response = post(data, body)
    assert response.status_code == 400
    error = error_of(response)
    assert (error.get("attribute"), error["type"], error["message"]) == (attribute, type_, message)
    assert moengage_emulator.inspect.summary()["users"] == 0


def test_a_structural_error_rejects_the_whole_request(moengage_emulator, data):
    body = transition(customer("user-1"), {"type": "event", "actions": [action("x")]})
    assert post(data, body).status_code == 400
    assert moengage_emulator.inspect.users() == {}


@pytest.mark.parametrize(
    ("content", "type_"),
    [
        (b"{not json", "Malformed JSON"),
        (b"\xff\xfe\x00", "Malformed JSON"),
        (b"", "Body type is not JSON"),
        (b"[1, 2]", "Body type is not JSON"),
    ],
)
def test_body_not_json(data, content, type_):
    response = data.post(PATH, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["type"] == type_


def _body_of_size(size: int) -> bytes:
    base = orjson.dumps(transition(customer("user-1", pad="")))
    padding = size - len(base)
    body = orjson.dumps(transition(customer("user-1", pad="x" * padding)))
    assert len(body) == size
    return body


def test_413_above_102400_bytes(moengage_emulator, data):
    headers = {"Content-Type": "application/json"}
    at_limit = data.post(
        PATH, content=_body_of_size(limits.TRANSITION_HARD_MAX_BYTES), headers=headers
    )
    assert at_limit.status_code == 200
    over = data.post(
        PATH, content=_body_of_size(limits.TRANSITION_HARD_MAX_BYTES + 1), headers=headers
    )
    assert over.status_code == 413
    error = error_of(over)
    assert error["type"] == "PayloadTooLarge"
    assert error["message"] == "Payload size exceeds 100 KB"
    assert moengage_emulator.inspect.counters()["transition"]["413"] == 1


def test_body_limit_is_configurable(moengage_emulator_factory):
    emulator = moengage_emulator_factory(transition_max_bytes=100_000)
    with data_client(emulator) as client:
        headers = {"Content-Type": "application/json"}
        assert client.post(PATH, content=_body_of_size(100_000), headers=headers).status_code == 200
        assert client.post(PATH, content=_body_of_size(100_001), headers=headers).status_code == 413


# -- element-level quirks: 200, silently not processed, kept with a reason ---------------------


def dropped_reasons(emulator):
    return [(d["kind"], d["reason"]) for d in emulator.inspect.dropped()]


@pytest.mark.parametrize("banned", sorted(limits.BANNED_CUSTOMER_IDS - {""}))
def test_banned_customer_ids_are_dropped(moengage_emulator, data, banned):
    response = post(data, transition(customer(banned.upper(), name="x"), customer("good-user")))
    assert response.status_code == 200
    assert set(moengage_emulator.inspect.users()) == {"good-user"}
    assert dropped_reasons(moengage_emulator) == [
        ("element", "customer_id is a value MoEngage refuses")
    ]


def test_one_character_customer_id_is_dropped(moengage_emulator, data):
    assert post(data, transition(customer("x"))).status_code == 200
    assert moengage_emulator.inspect.users() == {}
    assert dropped_reasons(moengage_emulator) == [
        ("element", "customer_id must be longer than one character")
    ]


def test_event_of_banned_customer_is_dropped(moengage_emulator, data):
    assert post(data, transition(event("guest", action("Purchase")))).status_code == 200
    assert moengage_emulator.inspect.events() == []
    assert dropped_reasons(moengage_emulator) == [
        ("element", "customer_id is a value MoEngage refuses")
    ]


def test_moe_prefixed_and_reserved_names_are_dropped(moengage_emulator, data):
    body = transition(
        customer(
            "user-1",
            name="Ada",
            moe_custom=1,
            moe_unsubscribe=True,
            status="gold",
            USER_ATTRIBUTE_UNIQUE_ID="x",
        ),
        event(
            "user-1",
            action("moe_internal"),
            action("Purchase", attributes={"moe_flag": 1, "ok": 2}),
        ),
    )
    assert post(data, body).status_code == 200
    assert moengage_emulator.inspect.users() == {"user-1": {"name": "Ada", "moe_unsubscribe": True}}
    assert [(e["action"], e["attributes"]) for e in moengage_emulator.inspect.events()] == [
        ("Purchase", {"ok": 2})
    ]
    reasons = dropped_reasons(moengage_emulator)
    assert reasons.count(("attribute", "custom names must not start with moe_")) == 2
    assert reasons.count(("attribute", "reserved attribute name")) == 2
    assert ("action", "custom names must not start with moe_") in reasons


def test_future_dated_events_are_dropped(moengage_emulator, data):
    now = time.time()
    body = transition(
        event(
            "user-1",
            action("Past", current_time=int(now) - 3600),
            action("Future", current_time=int(now) + 86_400),
            action("FutureMillis", current_time=str(int((now + 86_400) * 1000))),
        )
    )
    assert post(data, body).status_code == 200
    assert [e["action"] for e in moengage_emulator.inspect.events()] == ["Past"]
    assert dropped_reasons(moengage_emulator) == [("action", "future-dated event")] * 2


def test_case_wrong_type_is_silently_not_processed(moengage_emulator, data):
    body = transition(
        {"type": "Customer", "customer_id": "user-1"},
        {"type": "EVENT", "customer_id": "user-2", "actions": [action("x")]},
    )
    assert post(data, body).status_code == 200
    assert moengage_emulator.inspect.users() == {}
    assert dropped_reasons(moengage_emulator) == [("element", "element type is case-sensitive")] * 2


def test_invalid_platform_drops_the_action(moengage_emulator, data):
    body = transition(
        event(
            "user-1",
            action("A", platform="Windows"),
            action("B", platform="android"),
            action("C", platform="Web"),
        )
    )
    assert post(data, body).status_code == 200
    assert [e["action"] for e in moengage_emulator.inspect.events()] == ["B", "C"]
    assert dropped_reasons(moengage_emulator) == [("action", "invalid platform")]


def test_invalid_dates_are_stored_as_strings(moengage_emulator, data):
    body = transition(
        customer(
            "user-1",
            joined="2019-03-12T17:36:05Z",
            day="2020-05-31",
            bad="2020-15-01",
            js="Thu Mar 24 2016 17:46:45 GMT+0000 (UTC)",
            n=3,
            flag=True,
        )
    )
    assert post(data, body).status_code == 200
    record = moengage_emulator.inspect.user("user-1")
    assert record["attributes"]["bad"] == "2020-15-01"
    assert record["attribute_types"] == {
        "joined": "datetime",
        "day": "datetime",
        "bad": "string",
        "js": "string",
        "n": "number",
        "flag": "boolean",
    }


def test_event_times_in_seconds_millis_and_iso(moengage_emulator, data):
    body = transition(
        event(
            "user-1",
            action("Secs", current_time=1_708_939_453),
            action("Millis", current_time="1708939453396"),
            action("Iso", current_time="2020-10-16T13:40:12.791+05:30"),
            action("UserTime", user_time="1710740192"),
        )
    )
    assert post(data, body).status_code == 200
    times = {e["action"]: (int(e["time"]), e["day"]) for e in moengage_emulator.inspect.events()}
    assert times == {
        "Secs": (1_708_939_453, "2024-02-26"),
        "Millis": (1_708_939_453, "2024-02-26"),
        "Iso": (1_602_835_812, "2020-10-16"),
        "UserTime": (1_710_740_192, "2024-03-18"),
    }


def test_events_create_their_user(moengage_emulator, data):
    post(data, transition(event("user-9", action("Opened"))))
    assert moengage_emulator.inspect.users() == {"user-9": {}}


def test_devices_need_an_existing_user(moengage_emulator, data):
    device = {
        "type": "device",
        "customer_id": "user-1",
        "device_id": "d1",
        "attributes": {"platform": "ANDROID", "push_id": "p1", "brand": "Mi"},
    }
    assert post(data, transition(device)).status_code == 200
    assert moengage_emulator.inspect.devices() == {}
    post(data, transition(customer("user-1"), device))
    assert moengage_emulator.inspect.devices() == {
        "d1": {"customer_id": "user-1", "attributes": {"platform": "ANDROID", "push_id": "p1"}}
    }
    reasons = dropped_reasons(moengage_emulator)
    assert ("element", "device for a customer that does not exist") in reasons
    assert ("attribute", "unknown device attribute") in reasons


def test_incomplete_bulk_device_is_dropped_not_rejected(moengage_emulator, data):
    device = {
        "type": "device",
        "customer_id": "user-1",
        "attributes": {"platform": "ANDROID", "push_id": "p"},
    }
    assert post(data, transition(customer("user-1"), device)).status_code == 200
    assert moengage_emulator.inspect.devices() == {}
    assert dropped_reasons(moengage_emulator) == [
        ("element", "device element incomplete: 'device_id' is not found in the payload")
    ]


def test_update_existing_only(moengage_emulator, data):
    element = {**customer("user-1", name="New"), "update_existing_only": True}
    post(data, transition(element))
    assert moengage_emulator.inspect.users() == {}
    post(data, transition(customer("user-1", name="Old")))
    post(data, transition(element))
    assert moengage_emulator.inspect.users() == {"user-1": {"name": "New"}}
    assert dropped_reasons(moengage_emulator) == [
        ("element", "update_existing_only and the customer does not exist")
    ]


def test_dropped_entries_name_request_and_index(moengage_emulator, data):
    response = post(data, transition(customer("user-1"), customer("null")))
    (entry,) = moengage_emulator.inspect.dropped()
    assert entry["request_id"] == response.json()["request_id"]
    assert entry["index"] == 1
    assert entry["endpoint"] == "transition"
    assert entry["element"] == customer("null")


def test_real_world_bulk_payloads_are_accepted(moengage_emulator, data):
    entries = [e for e in json.loads(EXAMPLES.read_text()) if "/v1/transition/" in e["path"]]
    assert entries
    for entry in entries:
        response = post(data, entry["body"])
        assert response.status_code == 200, entry["case"]
    # Only the element the examples flag as likely invalid (a device without device_id) is dropped.
    element_drops = [d for d in moengage_emulator.inspect.dropped() if d["kind"] == "element"]
    assert [d["reason"] for d in element_drops] == [
        "device element incomplete: 'device_id' is not found in the payload"
    ]
    assert moengage_emulator.inspect.summary()["events"] > 0
