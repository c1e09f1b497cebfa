"""Sync history (``moengage_sync_runs``) and the events cursor of ``since_last_run``."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.errors import ConfigError
from moengage_pipelines.push.history import SyncRuns
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.sources import ParquetSource, TimeWindow
from tests.push.test_state import server_client

EVENTS = {"entity": "events", "customer_id": "uid", "event_name": "Bought",
          "event_time_column": "at", "attributes": ["note"]}
USERS = {"entity": "users", "customer_id": "uid"}
START = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)


def events(path, offsets_minutes: list[int]) -> ParquetSource:
    pq.write_table(pa.table({
        "uid": [f"user-{m % 7}" for m in offsets_minutes],
        "at": pa.array([START + dt.timedelta(minutes=m) for m in offsets_minutes],
                       pa.timestamp("us", tz="UTC")),
        "note": [f"m{m}" for m in offsets_minutes],
    }), path)
    return ParquetSource(path, time_column="at")


def notes(emulator) -> Counter:
    return Counter(event["attributes"]["note"] for event in emulator.inspect.events())


@pytest.fixture
def server(moengage_emulator_server):
    return moengage_emulator_server


def test_every_push_leaves_one_row_with_its_counts(tmp_path, server, state):
    path = tmp_path / "users.parquet"
    pq.write_table(pa.table({"uid": ["user-a", "user-b", "user-c", "null"]}), path)
    server.emulator.faults.add(FaultRule(endpoint="transition", kind="error", count=1))
    with server_client(server, max_attempts=1) as client:
        for _ in range(2):
            run_push(ParquetSource(path), USERS, client, sync_name="users",
                     ledger=PushLedger(state), dead_letters=None)
    runs = SyncRuns(state).read("users").to_pylist()
    assert [run["exit"] for run in runs] == ["incomplete", "ok"]
    first, second = runs
    assert (first["rows_read"], first["rows_rejected"], first["failed_rows"]) == (4, 1, 3)
    assert (second["rows_sent"], second["rows_retried"], second["bodies"]) == (3, 3, 1)
    assert second["destination"].endswith("/TEST_WORKSPACE/users")
    assert second["finished_at"] >= second["started_at"]


def test_a_push_that_raises_is_recorded_as_an_error(tmp_path, server, state):
    path = tmp_path / "users.parquet"
    pq.write_table(pa.table({"uid": ["user-a"]}), path)
    with server_client(server) as client, pytest.raises(Exception, match="no_such_column"):
        run_push(ParquetSource(path), {"entity": "users", "customer_id": "no_such_column"},
                 client, sync_name="broken", ledger=PushLedger(state), dead_letters=None)
    (run,) = SyncRuns(state).read("broken").to_pylist()
    assert run["exit"] == "error" and "no_such_column" in run["error"]
    assert run["rows_sent"] == 0


def test_since_last_run_needs_the_state_and_no_window(tmp_path, state):
    path = tmp_path / "users.parquet"
    pq.write_table(pa.table({"uid": ["user-a"]}), path)
    with pytest.raises(ConfigError, match="since_last_run computes the window"):
        run_push(ParquetSource(path, time_column="uid"), USERS, None, sync_name="u",
                 ledger=PushLedger(state), since_last_run=True,
                 window=TimeWindow("2025-01-01", "2025-01-02"),
                 options=PushOptions(dry_run=True))
    with pytest.raises(ConfigError, match="needs the delivery state"):
        run_push(ParquetSource(path, time_column="uid"), USERS, None, sync_name="u",
                 ledger=None, dead_letters=None, since_last_run=True,
                 options=PushOptions(dry_run=True))


def test_since_last_run_sends_new_and_late_events_once(tmp_path, server, state):
    ledger = PushLedger(state)
    with server_client(server) as client:
        def push(path, minutes, now_minutes):
            return run_push(
                events(path, minutes), EVENTS, client, sync_name="events", ledger=ledger,
                dead_letters=None, since_last_run=True,
                options=PushOptions(now=START + dt.timedelta(minutes=now_minutes),
                                    lookback=dt.timedelta(hours=2)),
            )

        first = push(tmp_path / "a.parquet", list(range(0, 300, 10)), now_minutes=300)
        assert first.events_sent == 30
        # Later: the old rows again, one that arrived late (inside the lookback), new ones.
        later = [*range(0, 300, 10), 255, *range(300, 400, 10)]
        second = push(tmp_path / "b.parquet", later, now_minutes=400)
        # Rows before the cursor minus the lookback are outside the window; inside it, only
        # the late row is new; everything after the cursor is new.
        assert second.events_sent == 1 + 10
        assert second.duplicate_keys == 0 and second.rows_unchanged == 12
    received = notes(server.emulator)
    assert set(received.values()) == {1}
    assert len(received) == 30 + 1 + 10
    cursors = [run["window_end"] for run in SyncRuns(state).read("events").to_pylist()]
    assert cursors == [START + dt.timedelta(minutes=300), START + dt.timedelta(minutes=400)]
