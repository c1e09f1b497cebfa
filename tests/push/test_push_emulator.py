"""End to end against the emulator: it receives exactly the valid rows, nothing rejected."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push

USERS = {
    "entity": "users", "customer_id": "uid", "email": "email", "first_name": "first",
    "attributes": {"plan": "plan", "score": "score", "joined": "joined", "tags": "tags"},
    "non_finite": "reject",  # the NaN score rejects its row (the default leaves it out)
}


def _user_rows() -> dict:
    return {
        "uid": ["user-1", "null", "user-3", "", "user-5", "x", "user-7"],
        "email": ["a@x.io", "b@x.io", None, "d@x.io", "e@x.io", "f@x.io", "g@x.io"],
        "first": ["Ana", "Bo", "Cy", "Di", "Émile", "Fay", "Gus"],
        "plan": ["gold", "silver", "free", "free", 'quote " and \\', "free", None],
        "score": [1.5, 2.0, float("nan"), 4.0, -0.1, 6.0, 1e300],
        "joined": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5)] * 7, pa.timestamp("ms")),
        "tags": [["a", "b"], [], None, ["x"], ["é"], [], ["z"]],
    }


def test_users_reach_the_emulator_exactly(parquet_source, client, moengage_emulator, dead_letters):
    report = run_push(parquet_source(_user_rows()), USERS, client, sync_name="users",
                      dead_letters=dead_letters)
    assert dict(report.rejected_by_rule) == {
        "banned_customer_id": 1, "missing_customer_id": 1, "short_customer_id": 1,
        "non_finite_number": 1,
    }
    assert report.users_sent == 3 and report.failed_bodies == 0
    users = moengage_emulator.inspect.users()
    assert set(users) == {"user-1", "user-5", "user-7"}
    assert users["user-1"]["email"] == "a@x.io"
    assert users["user-1"]["plan"] == "gold"
    assert users["user-1"]["joined"] in ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05")
    assert users["user-5"]["first_name"] == "Émile"
    assert users["user-5"]["plan"] == 'quote " and \\'
    assert users["user-5"]["tags"] == ["é"]
    assert users["user-7"]["score"] == 1e300
    assert "plan" not in users["user-7"]  # nulls are left out, not sent
    assert moengage_emulator.inspect.dropped() == []
    assert dead_letters.count("users") == 4


def _event_rows(n: int) -> dict:
    base = dt.datetime(2025, 1, 1)
    uids = [f"user-{i % 97}" for i in range(n)]
    uids[3] = "guest"
    names = ["Purchase" if i % 2 else "Viewed Item ☕" for i in range(n)]
    names[5] = "moe_internal"
    times = [base + dt.timedelta(seconds=i) for i in range(n)]
    times[7] = dt.datetime(2100, 1, 1)
    platforms = [["android", "iOS", "web", None][i % 4] for i in range(n)]
    platforms[9] = "Symbian"
    return {
        "uid": uids, "name": names, "at": pa.array(times, pa.timestamp("us")),
        "platform": platforms, "price": [i / 4 for i in range(n)],
        "note": [f"row {i} ünïcödé \"q\"" for i in range(n)],
    }


EVENTS = {
    "entity": "events", "customer_id": "uid", "event_name_column": "name",
    "event_time_column": "at", "platform_column": "platform", "app_version": "3.1",
    "attributes": ["price", "note"],
}
REJECTED = {3, 5, 7, 9}


def _assert_events_match(emulator, data: dict, n: int) -> None:
    received = emulator.inspect.events()
    expected = [
        (data["uid"][i], data["name"][i], f"row {i} ünïcödé \"q\"", i / 4)
        for i in range(n) if i not in REJECTED
    ]
    got = [(e["customer_id"], e["action"], e["attributes"]["note"], e["attributes"]["price"])
           for e in received]
    assert sorted(got) == sorted(expected)  # exactly once each, nothing rejected
    assert emulator.inspect.dropped() == []


def test_events_reach_the_emulator_exactly(parquet_source, client, moengage_emulator):
    n = 2_000
    data = _event_rows(n)
    report = run_push(
        parquet_source(data), EVENTS, client, sync_name="events",
        options=PushOptions(max_body_bytes=20_000, batch_rows=333, concurrency=3),
    )
    assert dict(report.rejected_by_rule) == {
        "banned_customer_id": 1, "reserved_event_name": 1, "future_event_time": 1,
        "invalid_platform": 1,
    }
    assert report.events_sent == n - 4
    assert report.bodies > 5
    assert report.largest_body_bytes <= 20_000
    _assert_events_match(moengage_emulator, data, n)
    # Bodies arrive concurrently, so pick user-1's earliest event by time, not by arrival.
    first = min(
        (e for e in moengage_emulator.inspect.events() if e["customer_id"] == "user-1"),
        key=lambda e: e["time"],
    )
    assert first["platform"] == "iOS"
    assert first["time"] == dt.datetime(2025, 1, 1, 0, 0, 1, tzinfo=dt.UTC).timestamp()


def test_events_over_a_real_loopback_server(parquet_source, moengage_emulator_server):
    settings = MoEngageSettings(
        workspace_id="TEST_WORKSPACE", data_api_key="test-data-key",
        campaign_api_key="test-campaign-key", base_url=moengage_emulator_server.url,
    )
    n = 1_500
    data = _event_rows(n)
    from moengage_pipelines.api.ratebudget import RateBudget

    with MoEngageClient(settings, budget=RateBudget.unlimited()) as client:
        report = run_push(parquet_source(data), EVENTS, client, sync_name="events",
                          options=PushOptions(max_body_bytes=10_000, concurrency=4))
    assert report.failed_bodies == 0
    assert report.events_sent == n - 4
    _assert_events_match(moengage_emulator_server.emulator, data, n)


def test_dry_run_sends_nothing(parquet_source, client, moengage_emulator):
    report = run_push(parquet_source(_event_rows(50)), EVENTS, client, sync_name="events",
                      options=PushOptions(dry_run=True))
    assert report.events_sent == 46
    assert moengage_emulator.inspect.events() == []
    assert moengage_emulator.inspect.counters().get("total", {}).get("requests", 0) == 0


@pytest.mark.parametrize("update_existing_only", [False, True])
def test_update_existing_only(parquet_source, client, moengage_emulator, update_existing_only):
    run_push(parquet_source({"uid": ["user-1"], "plan": ["gold"]}),
             {"entity": "users", "customer_id": "uid", "attributes": ["plan"]}, client,
             sync_name="seed")
    mapping = {"entity": "users", "customer_id": "uid", "attributes": ["plan"],
               "update_existing_only": update_existing_only}
    run_push(parquet_source({"uid": ["user-1", "user-2"], "plan": ["silver", "free"]}),
             mapping, client, sync_name="users")
    users = moengage_emulator.inspect.users()
    assert users["user-1"]["plan"] == "silver"
    assert ("user-2" in users) is not update_existing_only


def test_zoned_times_arrive_in_utc_through_parallel_batches(
    parquet_source, client, moengage_emulator
):
    zone = dt.timezone(dt.timedelta(hours=5, minutes=30))
    moments = [dt.datetime(2025, 3, 1, 12, 0, tzinfo=zone) + dt.timedelta(minutes=i)
               for i in range(40)]
    data = {"uid": [f"user-{i:02d}" for i in range(40)],
            "at": pa.array(moments, pa.timestamp("us", tz="Asia/Kolkata"))}
    mapping = {"entity": "events", "customer_id": "uid", "event_name": "Tick",
               "event_time_column": "at"}
    run_push(parquet_source(data), mapping, client, sync_name="tz",
             options=PushOptions(batch_rows=3))
    received = {e["customer_id"]: e["time"] for e in moengage_emulator.inspect.events()}
    assert received == {f"user-{i:02d}": moments[i].timestamp() for i in range(40)}
