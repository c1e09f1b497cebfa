"""Event rules: timezone offset range, TV needs moe_os_type, device_id and time defaults."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import WORKSPACE, action, data_client, event, transition

TRACK_EVENT = f"/v1/event/{WORKSPACE}"
BULK = f"/v1/transition/{WORKSPACE}"


def post(client, path: str, element: dict):
    response = client.post(path, json=element if path == TRACK_EVENT else transition(element))
    assert response.status_code == 200, response.text
    return response


@pytest.mark.parametrize("path", [TRACK_EVENT, BULK])
def test_user_timezone_offset_outside_the_range_drops_the_action(moengage_emulator, data, path):
    offsets = {
        "max": 54_000,
        "min": -54_000,
        "ist": 19_800,
        "as-text": "19800",
        "too-east": 54_001,
        "too-west": -54_001,
        "fraction": 19_800.5,
        "not-a-number": "IST",
    }
    element = event(
        "user-1", *(action(name, user_timezone_offset=value) for name, value in offsets.items())
    )
    post(data, path, element)
    assert [e["action"] for e in moengage_emulator.inspect.events()] == [
        "max",
        "min",
        "ist",
        "as-text",
    ]
    dropped = moengage_emulator.inspect.dropped()
    assert [(d["kind"], d["element"]["action"]) for d in dropped] == [
        ("action", "too-east"),
        ("action", "too-west"),
        ("action", "fraction"),
        ("action", "not-a-number"),
    ]
    assert {d["reason"] for d in dropped} == {"user_timezone_offset outside -54000..54000 seconds"}


@pytest.mark.parametrize("path", [TRACK_EVENT, BULK])
def test_platform_tv_needs_a_moe_os_type_of_the_enum(moengage_emulator, data, path):
    element = event(
        "user-1",
        action("xbox", platform="TV", moe_os_type="Xbox"),
        action("roku-lower-platform", platform="tv", moe_os_type="ROKU"),
        # The reference's Identity Resolution example puts it in the attributes.
        action("in-attributes", platform="TV", attributes={"moe_os_type": "AndroidTV"}),
        action("missing", platform="TV"),
        action("wrong-case", platform="TV", moe_os_type="xbox"),
        action("unknown-os", platform="TV", moe_os_type="Windows"),
        action("not-tv", platform="web", moe_os_type="Xbox"),
    )
    post(data, path, element)
    assert [e["action"] for e in moengage_emulator.inspect.events()] == [
        "xbox",
        "roku-lower-platform",
        "in-attributes",
        "not-tv",
    ]
    dropped = moengage_emulator.inspect.dropped()
    assert [d["element"]["action"] for d in dropped] == ["missing", "wrong-case", "unknown-os"]
    assert {d["reason"] for d in dropped} == {"platform TV without a valid moe_os_type"}


@pytest.mark.parametrize("path", [TRACK_EVENT, BULK])
def test_device_id_defaults_to_the_customer_id(moengage_emulator, data, path):
    post(data, path, event("user-1", action("no-device")))
    post(data, path, event("user-1", action("with-device"), device_id="dev-9"))
    post(data, path, event("user-1", action("empty-device"), device_id=""))
    assert [(e["action"], e["device_id"]) for e in moengage_emulator.inspect.events()] == [
        ("no-device", "user-1"),
        ("with-device", "dev-9"),
        ("empty-device", "user-1"),
    ]


def test_without_times_the_event_happens_when_received(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(clock=moengage_clock)
    with data_client(emulator) as client:
        post(client, TRACK_EVENT, event("user-1", action("untimed")))
        moengage_clock.advance(90)
        post(client, BULK, event("user-1", action("untimed-bulk")))
        post(client, BULK, event("user-1", action("user-time-only", user_time=1_699_990_000)))
    times = {e["action"]: (e["time"], e["received_at"]) for e in emulator.inspect.events()}
    assert times["untimed"] == (1_700_000_000.0, 1_700_000_000.0)
    assert times["untimed-bulk"] == (1_700_000_090.0, 1_700_000_090.0)
    # With only user_time given, that time is the event's.
    assert times["user-time-only"] == (1_699_990_000.0, 1_700_000_090.0)
    assert emulator.inspect.events()[0]["day"] == "2023-11-14"
