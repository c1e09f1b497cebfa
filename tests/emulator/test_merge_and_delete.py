"""Merge Users and Delete User: what moves, the events MoEngage adds, documented errors."""

from __future__ import annotations

from datetime import UTC, datetime

from moengage_pipelines.emulator import FaultRule
from tests.emulator.conftest import (
    WORKSPACE,
    action,
    campaign_client,
    customer,
    data_client,
    event,
    transition,
)

Q = {"app_id": WORKSPACE}
BULK = f"/v1/transition/{WORKSPACE}"
DAY = 86_400


def merge(client, merged: str, retained: str):
    body = {"merge_data": [{"merged_user": merged, "retained_user": retained}]}
    response = client.post("/v1/customer/merge", params=Q, json=body)
    assert response.status_code == 200, response.text
    return response


def device(customer_id: str, device_id: str) -> dict:
    return {
        "type": "device",
        "customer_id": customer_id,
        "device_id": device_id,
        "attributes": {"platform": "iOS", "push_id": f"push-{device_id}"},
    }


def test_merge_moves_devices_and_only_the_last_30_days_of_events(
    moengage_emulator_factory, moengage_clock
):
    emulator = moengage_emulator_factory(clock=moengage_clock)
    now = moengage_clock.now
    with data_client(emulator) as client:
        body = transition(
            customer("old-id", plan="gold"),
            customer("new-id", email="a@example.com"),
            device("old-id", "phone"),
            event("old-id", action("Ancient", current_time=now - 31 * DAY)),
            event("old-id", action("Recent", current_time=now - 29 * DAY)),
            event("new-id", action("Own", current_time=now - DAY)),
        )
        assert client.post(BULK, json=body).status_code == 200
        merge(client, "old-id", "new-id")
    assert emulator.inspect.devices() == {
        "phone": {
            "customer_id": "new-id",
            "attributes": {"platform": "iOS", "push_id": "push-phone"},
        }
    }
    assert emulator.inspect.users() == {"new-id": {"email": "a@example.com", "plan": "gold"}}
    owners = {e["action"]: e["customer_id"] for e in emulator.inspect.events()}
    # The event older than 30 days stays with the merged (now deleted) user.
    assert owners["Ancient"] == "old-id"
    assert owners["Recent"] == "new-id"
    assert owners["Own"] == "new-id"


def test_merge_adds_moengage_merge_events_to_both_users(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(clock=moengage_clock)
    with data_client(emulator) as client:
        client.post(BULK, json=transition(customer("old-id"), customer("new-id")))
        answer = merge(client, "old-id", "new-id").json()
    assert answer == {"status": "success", "operation": "created"}
    added = [
        (e["customer_id"], e["action"], e["time"], e["endpoint"], e["attributes"])
        for e in emulator.inspect.events()
    ]
    pair = {"merged_user": "old-id", "retained_user": "new-id"}
    assert added == [
        ("old-id", "MOE_USER_MERGE_EVENT", moengage_clock.now, "customer_merge", pair),
        ("new-id", "MOE_USER_MERGED", moengage_clock.now, "customer_merge", pair),
    ]


def test_the_merge_events_are_no_campaign_activity(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(clock=moengage_clock)
    day = datetime.fromtimestamp(moengage_clock.now, UTC).date().isoformat()
    with data_client(emulator) as client:
        client.post(BULK, json=transition(customer("old-id"), customer("new-id", email="a@x.io")))
        merge(client, "old-id", "new-id")
    with campaign_client(emulator) as client:
        answer = client.post(
            "/core-services/v1/campaign-stats",
            json={
                "request_id": "r",
                "start_date": day,
                "end_date": day,
                "attribution_type": "VIEW_THROUGH",
                "metric_type": "TOTAL",
            },
        ).json()
    assert (answer["total_campaigns"], answer["data"]) == (0, {})


def test_merge_is_refused_under_identity_resolution(moengage_emulator_factory):
    emulator = moengage_emulator_factory(identity_resolution=True)
    with data_client(emulator) as client:
        client.post(BULK, json=transition(customer("old-id"), customer("new-id")))
        response = client.post(
            "/v1/customer/merge",
            params=Q,
            json={"merge_data": [{"merged_user": "old-id", "retained_user": "new-id"}]},
        )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["message"]) == (
        "InvalidParams",
        "Merge User API is not available for workspaces with Identity Resolution enabled",
    )
    assert set(emulator.inspect.users()) == {"old-id", "new-id"}
    assert emulator.inspect.merges() == []


def test_delete_by_moengage_id(moengage_emulator, data):
    data.post(BULK, json=transition(customer("user-1"), customer("user-2")))
    moengage_id = moengage_emulator.inspect.user("user-1")["moengage_id"]
    response = data.post(
        "/v1/customer/delete",
        params=Q,
        json={"identity_type": "moengage_id", "identity_value": moengage_id},
    )
    assert response.status_code == 200
    assert set(moengage_emulator.inspect.users()) == {"user-2"}
    assert moengage_emulator.inspect.deletions() == [
        {"customer_id": "user-1", "moengage_id": moengage_id}
    ]
    again = data.post(
        "/v1/customer/delete",
        params=Q,
        json={"identity_type": "moengage_id", "identity_value": moengage_id},
    )
    assert again.status_code == 400
    assert again.json()["error"]["message"] == f"User doesn't exists with moengage id {moengage_id}"


def test_delete_500_has_the_title_description_shape(moengage_emulator, data):
    data.post(BULK, json=transition(customer("user-1")))
    moengage_emulator.faults.add(FaultRule(endpoint="customer_delete", kind="error"))
    response = data.post(
        "/v1/customer/delete",
        params=Q,
        json={"identity_type": "customer_id", "identity_value": "user-1"},
    )
    assert response.status_code == 500
    assert response.json() == {
        "status": "fail",
        "title": "Internal Error",
        "description": "Please contact the MoEngage team.",
    }
    assert set(moengage_emulator.inspect.users()) == {"user-1"}
