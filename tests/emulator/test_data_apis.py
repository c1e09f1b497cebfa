"""Track User/Event/Device, Get User, Delete User and Merge Users."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from tests.emulator.conftest import WORKSPACE, action, customer, event, transition

Q = {"app_id": WORKSPACE}
EXAMPLES = Path(__file__).parent / "conformance" / "data" / "real-world-requests.json"


def seed_users(data, *ids: str, **attributes) -> None:
    assert (
        data.post(
            f"/v1/transition/{WORKSPACE}",
            json=transition(*(customer(i, **attributes) for i in ids)),
        ).status_code
        == 200
    )


def test_track_user(moengage_emulator, data):
    response = data.post(
        f"/v1/customer/{WORKSPACE}", json=customer("user-1", name="Ada", points=20)
    )
    assert response.status_code == 200
    assert response.json()["status"] == "success"
    assert moengage_emulator.inspect.users() == {"user-1": {"name": "Ada", "points": 20}}


def test_track_user_top_level_platforms(moengage_emulator, data):
    body = {**customer("user-1"), "platforms": [{"platform": "web", "active": "false"}]}
    data.post(f"/v1/customer/{WORKSPACE}", json=body)
    assert moengage_emulator.inspect.user("user-1")["platforms"] == {"web": "false"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "customer", "attributes": {}}, "customer_id is not found in the payload"),
        ({"type": "customer", "customer_id": ""}, "customer_id can not be empty Unicode String"),
    ],
)
def test_track_user_400s(data, body, message):
    response = data.post(f"/v1/customer/{WORKSPACE}", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == message
    assert response.json()["error"]["attribute"] == "customer_id"


def test_track_user_case_wrong_type_is_dropped(moengage_emulator, data):
    response = data.post(
        f"/v1/customer/{WORKSPACE}", json={"type": "Customer", "customer_id": "user-1"}
    )
    assert response.status_code == 200
    assert moengage_emulator.inspect.users() == {}
    assert moengage_emulator.inspect.dropped()[0]["reason"] == "element type is case-sensitive"


def test_track_user_128kb_limit(data):
    body = orjson.dumps(customer("user-1", pad="x" * 140_000))
    response = data.post(
        f"/v1/customer/{WORKSPACE}", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["message"] == "Payload size exceeds 128 KB"


def test_track_event(moengage_emulator, data):
    body = event(
        "user-1",
        action("Added to Cart", platform="iOS", attributes={"price": 3999}),
        action("Purchase", platform="iOS"),
        device_id="dev-1",
    )
    assert data.post(f"/v1/event/{WORKSPACE}", json=body).status_code == 200
    events = moengage_emulator.inspect.events()
    assert [(e["action"], e["device_id"], e["endpoint"]) for e in events] == [
        ("Added to Cart", "dev-1", "event"),
        ("Purchase", "dev-1", "event"),
    ]


@pytest.mark.parametrize(
    ("body", "attribute", "message"),
    [
        (
            {"type": "event", "customer_id": "user-1", "actions": []},
            "actions",
            "actions can not be empty Array",
        ),
        (
            {"type": "event", "actions": [action("x")]},
            "customer_id",
            "customer_id is not found in the payload",
        ),
        (
            {"type": "event", "customer_id": "user-1", "actions": [{"attributes": {}}]},
            "action",
            "action is not found in the payload",
        ),
    ],
)
def test_track_event_400s(data, body, attribute, message):
    response = data.post(f"/v1/event/{WORKSPACE}", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["attribute"], error["message"], error["type"]) == (
        attribute,
        message,
        "MissingAttributeError",
    )


def test_track_event_non_string_action_is_malformed(data):
    response = data.post(f"/v1/event/{WORKSPACE}", json=event("user-1", {"action": {"x": 1}}))
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "Malformed JSON"


def test_track_device(moengage_emulator, data):
    seed_users(data, "user-1")
    body = {
        "type": "device",
        "customer_id": "user-1",
        "device_id": "d1",
        "attributes": {"platform": "android", "push_id": "p", "model": "X", "custom": 1},
    }
    assert data.post(f"/v1/device/{WORKSPACE}", json=body).status_code == 200
    assert moengage_emulator.inspect.devices()["d1"]["attributes"] == {
        "platform": "android",
        "push_id": "p",
        "model": "X",
    }
    assert moengage_emulator.inspect.user("user-1")["devices"] == {
        "d1": {"platform": "android", "push_id": "p", "model": "X"}
    }


@pytest.mark.parametrize(
    ("attributes", "attribute", "message", "type_"),
    [
        (None, "attributes", "'attributes' is not found in the payload", "MissingAttributeError"),
        (
            {"push_id": "p"},
            "platform",
            "'platform' is not found in payload",
            "MissingAttributeError",
        ),
        (
            {"platform": "Windows", "push_id": "p"},
            "platform",
            "'platform' is not a valid platform.",
            "ValueError",
        ),
        (
            {"platform": "iOS"},
            "push_id",
            "'push_id' is not found in payload",
            "MissingAttributeError",
        ),
    ],
)
def test_track_device_400s(data, attributes, attribute, message, type_):
    body = {"type": "device", "customer_id": "user-1", "device_id": "d1"}
    if attributes is not None:
        body["attributes"] = attributes
    response = data.post(f"/v1/device/{WORKSPACE}", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["attribute"], error["message"], error["type"]) == (attribute, message, type_)


# -- Get User -----------------------------------------------------------------------------------


def test_export_users(moengage_emulator, data):
    seed_users(data, "user-1", name="Ada", last_name="L", extra=1)
    moengage_id = moengage_emulator.inspect.user("user-1")["moengage_id"]
    body = {
        "data": {
            "identifiers": [
                {"identifier_type": "customer_id", "identifier": "user-1"},
                {"identifier_type": "customer_id", "identifier": "missing"},
                {"identifier_type": "id", "identifier": moengage_id},
            ],
            "user_fields_to_export": ["last_name", "customer_id", "name"],
        }
    }
    response = data.post("/v1/customers/export", params=Q, json=body)
    assert response.status_code == 200
    payload = response.json()
    assert payload["status"] == "success"
    assert payload["type"] == "export_users"
    expected = {"last_name": "L", "customer_id": "user-1", "name": "Ada", "id": moengage_id}
    assert payload["data"]["users"] == [{"user_attributes": expected}] * 2
    assert payload["data"]["users_not_found"] == [
        {"identifier_type": "customer_id", "identifier": "missing"}
    ]


def test_export_accepts_root_identifiers_and_all_fields(moengage_emulator, data):
    seed_users(data, "user-1", name="Ada", extra=1)
    body = {"identifiers": [{"identifier_type": "customer_id", "identifier": "user-1"}]}
    response = data.post("/v1/customers/export", params=Q, json=body)
    attributes = response.json()["data"]["users"][0]["user_attributes"]
    assert {k: v for k, v in attributes.items() if k != "id"} == {
        "name": "Ada",
        "extra": 1,
        "customer_id": "user-1",
    }


@pytest.mark.parametrize(
    ("body", "attribute", "type_", "message"),
    [
        ({}, "data", "MissingAttributeError", "data is not found in the payload"),
        (
            {"data": {}},
            "identifiers",
            "MissingAttributeError",
            "identifiers is not found in the payload",
        ),
        (
            {
                "data": {
                    "identifiers": [
                        {"identifier_type": "customer_id", "identifier": f"u{i}"} for i in range(21)
                    ]
                }
            },
            "users",
            "LimitBreached",
            "max limit allowed is 20",
        ),
    ],
)
def test_export_400s(data, body, attribute, type_, message):
    response = data.post("/v1/customers/export", params=Q, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["attribute"], error["type"], error["message"]) == (attribute, type_, message)


# -- Delete User ----------------------------------------------------------------------------------


def test_delete_user(moengage_emulator, data):
    seed_users(data, "user-1", "user-2")
    old_id = moengage_emulator.inspect.user("user-1")["moengage_id"]
    response = data.post(
        "/v1/customer/delete",
        params=Q,
        json={"identity_type": "customer_id", "identity_value": "user-1"},
    )
    assert response.status_code == 200
    assert (
        response.json()["message"] == "Your request has been accepted and will be processed soon."
    )
    assert set(moengage_emulator.inspect.users()) == {"user-2"}
    assert moengage_emulator.inspect.deletions() == [
        {"customer_id": "user-1", "moengage_id": old_id}
    ]
    # A later create makes a new user with a new MoEngage id.
    seed_users(data, "user-1")
    assert moengage_emulator.inspect.user("user-1")["moengage_id"] != old_id


def test_delete_by_moengage_id_and_not_found(moengage_emulator, data):
    seed_users(data, "user-1")
    moengage_id = moengage_emulator.inspect.user("user-1")["moengage_id"]
    ok = data.post(
        "/v1/customer/delete", params=Q, json={"identity_type": "id", "identity_value": moengage_id}
    )
    assert ok.status_code == 200
    missing = data.post(
        "/v1/customer/delete",
        params=Q,
        json={"identity_type": "customer_id", "identity_value": "ghost"},
    )
    assert missing.status_code == 400
    assert missing.json()["error"]["type"] == "Not Found"
    assert missing.json()["error"]["message"] == "User doesn't exists with customer id ghost"


# -- Merge Users ----------------------------------------------------------------------


def test_merge_users_skips_failing_pairs(moengage_emulator, data):
    seed_users(data, "old-1", "new-1", "new-2")
    data.post(f"/v1/customer/{WORKSPACE}", json=customer("old-1", only_old="x", shared="old"))
    data.post(f"/v1/customer/{WORKSPACE}", json=customer("new-1", shared="new"))
    data.post(f"/v1/event/{WORKSPACE}", json=event("old-1", action("Opened")))
    body = {
        "merge_data": [
            {"merged_user": "old-1", "retained_user": "new-1"},
            {"merged_user": "ghost", "retained_user": "new-2"},
        ]
    }
    response = data.post("/v1/customer/merge", params=Q, json=body)
    assert response.status_code == 200
    assert response.json() == {"status": "success", "operation": "created"}
    users = moengage_emulator.inspect.users()
    assert "old-1" not in users
    assert users["new-1"] == {"only_old": "x", "shared": "new"}
    assert [
        e["customer_id"] for e in moengage_emulator.inspect.events() if e["action"] == "Opened"
    ] == ["new-1"]
    assert moengage_emulator.inspect.merges() == [
        {"merged_user": "old-1", "retained_user": "new-1"}
    ]
    (skipped,) = moengage_emulator.inspect.dropped()
    assert (skipped["kind"], skipped["reason"], skipped["index"]) == (
        "pair",
        "merged_user does not exist",
        1,
    )


def test_merge_400s(data):
    too_many = {
        "merge_data": [{"merged_user": f"a{i}", "retained_user": f"b{i}"} for i in range(51)]
    }
    response = data.post("/v1/customer/merge", params=Q, json=too_many)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "LimitBreached"
    bad_type = {"merge_data": [{"merged_user": 5, "retained_user": "b1"}]}
    error = data.post("/v1/customer/merge", params=Q, json=bad_type).json()["error"]
    assert error["message"] == "merged_user is expected to be String or Unicode String."
    assert error["attribute"] == "merged_user"


def test_real_world_track_requests_are_accepted(moengage_emulator, data):
    entries = [e for e in json.loads(EXAMPLES.read_text()) if "/v1/transition/" not in e["path"]]
    # Users first, so devices and merges find them.
    entries.sort(
        key=lambda e: (
            "/v1/customer/" not in e["path"] or "merge" in e["path"],
            "merge" in e["path"],
        )
    )
    for entry in entries:
        path = entry["path"].replace("WORKSPACE_ID", WORKSPACE)
        response = data.post(path, json=entry["body"], headers={"MOE-APPKEY": WORKSPACE})
        assert response.status_code == 200, (entry["case"], response.text)
    assert moengage_emulator.inspect.summary()["devices"] == 1


def test_identity_resolution_accepts_identifiers_instead_of_customer_id(moengage_emulator_factory):
    from tests.emulator.conftest import data_client

    body = transition(
        {"type": "customer", "attributes": {"moe_mobile": "+15550001", "first_name": "John"}},
        {
            "type": "event",
            "user_identifiers": {"moe_mobile": "+15550001"},
            "actions": [action("AddToCart")],
        },
    )
    plain = moengage_emulator_factory()
    with data_client(plain) as client:
        assert client.post(f"/v1/transition/{WORKSPACE}", json=body).status_code == 400
    resolving = moengage_emulator_factory(identity_resolution=True)
    with data_client(resolving) as client:
        assert client.post(f"/v1/transition/{WORKSPACE}", json=body).status_code == 200
    assert resolving.inspect.users() == {
        "+15550001": {"moe_mobile": "+15550001", "first_name": "John"}
    }
    assert [e["customer_id"] for e in resolving.inspect.events()] == ["+15550001"]
