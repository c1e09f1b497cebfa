"""Devices: at most 1,000 per user (the 1,001st blocks the user), reused ids replace devices."""

from __future__ import annotations

import httpx
import pytest

from moengage_pipelines.emulator import Emulator, EmulatorSettings
from tests.emulator.conftest import WORKSPACE, action, customer, data_client, event, transition

BULK = f"/v1/transition/{WORKSPACE}"
TRACK_DEVICE = f"/v1/device/{WORKSPACE}"
BLOCKED = "the user is blocked (more than 1,000 devices)"
LIMIT = "1,001st device of the user: the user is blocked"


def device(customer_id: str, device_id: str, **attributes) -> dict:
    return {
        "type": "device",
        "customer_id": customer_id,
        "device_id": device_id,
        "attributes": {"platform": "ANDROID", "push_id": f"push-{device_id}", **attributes},
    }


def post(data, *elements: dict) -> httpx.Response:
    response = data.post(BULK, json=transition(*elements))
    assert response.status_code == 200, response.text
    return response


def test_the_1001st_device_blocks_the_user(moengage_emulator, data):
    post(data, customer("heavy", name="H"), customer("light"))
    for start in (0, 500):
        post(data, *(device("heavy", f"d{i}") for i in range(start, start + 500)))
    assert len(moengage_emulator.inspect.user("heavy")["devices"]) == 1_000
    # Updating one of the 1,000 (same device_id) is no new device.
    post(data, device("heavy", "d0", model="Pixel"))
    assert moengage_emulator.inspect.user("heavy")["blocked"] is False
    post(data, device("heavy", "d1000"), device("heavy", "d1001"))
    assert moengage_emulator.inspect.user("heavy")["blocked"] is True
    assert moengage_emulator.inspect.blocked_users() == ["heavy"]
    assert "d1000" not in moengage_emulator.inspect.devices()
    assert len(moengage_emulator.inspect.user("heavy")["devices"]) == 1_000
    # From now on everything for the blocked user is dropped; other users are not affected.
    post(
        data,
        customer("heavy", name="changed"),
        event("heavy", action("Opened")),
        device("heavy", "d0", model="changed"),
        customer("light", name="L"),
        event("light", action("Opened")),
    )
    assert moengage_emulator.inspect.users()["heavy"] == {"name": "H"}
    assert moengage_emulator.inspect.devices()["d0"]["attributes"]["model"] == "Pixel"
    assert [e["customer_id"] for e in moengage_emulator.inspect.events()] == ["light"]
    assert [(d["reason"], d["element"]) for d in moengage_emulator.inspect.dropped()] == [
        (LIMIT, {"customer_id": "heavy", "device_id": "d1000"}),
        (BLOCKED, {"type": "device", "customer_id": "heavy", "device_id": "d1001"}),
        (BLOCKED, {"type": "customer", "customer_id": "heavy"}),
        (BLOCKED, {"type": "event", "customer_id": "heavy", "action": "Opened"}),
        (BLOCKED, {"type": "device", "customer_id": "heavy", "device_id": "d0"}),
    ]
    with httpx.Client(transport=moengage_emulator.transport(), base_url="http://emulator") as plain:
        assert plain.get("/_emulator/blocked-users").json() == ["heavy"]
    # Deleting the user lifts the block: the id can be created again.
    deleted = data.post(
        "/v1/customer/delete",
        params={"app_id": WORKSPACE},
        json={"identity_type": "customer_id", "identity_value": "heavy"},
    )
    assert deleted.status_code == 200
    post(data, customer("heavy", name="again"), device("heavy", "fresh"))
    assert moengage_emulator.inspect.user("heavy")["blocked"] is False
    assert list(moengage_emulator.inspect.user("heavy")["devices"]) == ["fresh"]


def test_a_blocked_user_is_kept_blocked_by_a_file_database(tmp_path):
    database = str(tmp_path / "state.sqlite")
    with Emulator(EmulatorSettings(database=database)) as first, data_client(first) as client:
        post(client, customer("heavy"))
        for start in range(0, 1_001, 500):
            post(client, *(device("heavy", f"d{i}") for i in range(start, min(start + 500, 1_001))))
        assert first.inspect.blocked_users() == ["heavy"]
    with Emulator(EmulatorSettings(database=database)) as second, data_client(second) as client:
        post(client, event("heavy", action("Opened")))
        assert second.inspect.events() == []
        assert second.inspect.user("heavy")["blocked"] is True


@pytest.mark.parametrize("identifier", ["push_id", "moe_gaid", "idfv"])
def test_a_reused_identifier_replaces_the_old_device(moengage_emulator, data, identifier):
    post(data, customer("user-1"), customer("user-2"))
    post(data, device("user-1", "old", **{identifier: "shared-value"}), device("user-1", "other"))
    post(data, device("user-2", "new", **{identifier: "shared-value"}))
    devices = moengage_emulator.inspect.devices()
    assert set(devices) == {"other", "new"}
    assert devices["new"]["customer_id"] == "user-2"
    assert list(moengage_emulator.inspect.user("user-1")["devices"]) == ["other"]
    # Sending the same device again (same device_id) replaces nothing.
    post(data, device("user-2", "new", **{identifier: "shared-value"}, model="X"))
    assert set(moengage_emulator.inspect.devices()) == {"other", "new"}
    assert moengage_emulator.inspect.dropped() == []


def test_replacing_a_device_of_the_same_user_does_not_count_against_the_limit(
    moengage_emulator, data
):
    post(data, customer("user-1"))
    for start in (0, 500):
        post(data, *(device("user-1", f"d{i}") for i in range(start, start + 500)))
    # A new device_id with d0's push token replaces d0: still 1,000 devices, no block.
    post(data, device("user-1", "d0-reinstalled", push_id="push-d0"))
    user = moengage_emulator.inspect.user("user-1")
    assert (len(user["devices"]), user["blocked"]) == (1_000, False)
    assert "d0" not in user["devices"] and "d0-reinstalled" in user["devices"]


def test_track_device_without_customer_id(data):
    body = device("user-1", "d1")
    del body["customer_id"]
    response = data.post(TRACK_DEVICE, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["attribute"], error["type"], error["message"]) == (
        "customer_id",
        "MissingAttributeError",
        "'customer_id' is not found in the payload",
    )
