"""The push ledger against the emulator as a real server, on DuckDB and on PostgreSQL.

Events are told apart by their ``note`` attribute (unique per source row), so a duplicate or a
missing event shows in a plain ``Counter`` of what the emulator stored.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import RateBudget
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.push.dead_letters import DeadLetterWriter
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.sources import ParquetSource
from moengage_pipelines.warehouse import Warehouse

EVENTS = {
    "entity": "events", "customer_id": "uid", "event_name_column": "name",
    "event_time_column": "at", "attributes": ["price", "note"],
}
USERS = {"entity": "users", "customer_id": "uid", "first_name": "first",
         "attributes": {"plan": "plan"}}
# Small bodies: a few thousand rows make dozens of them.
OPTIONS = PushOptions(max_body_bytes=4_000, concurrency=2)
BASE = dt.datetime(2025, 1, 1)


def event_rows(start: int, stop: int) -> pa.Table:
    ids = range(start, stop)
    return pa.table({
        "uid": [f"user-{i % 37}" for i in ids],
        "name": ["Purchase" if i % 3 else "Viewed Item" for i in ids],
        "at": pa.array([BASE + dt.timedelta(seconds=i) for i in ids], pa.timestamp("us")),
        "price": [i / 4 for i in ids],
        "note": [f"row-{i:05d}" for i in ids],
    })


def user_rows(n: int, plans: dict[int, str] | None = None) -> pa.Table:
    plans = plans or {}
    return pa.table({
        "uid": [f"user-{i:05d}" for i in range(n)],
        "first": [f"Name {i}" for i in range(n)],
        "plan": [plans.get(i, "gold") for i in range(n)],
    })


def write_source(path: Path, table: pa.Table) -> ParquetSource:
    pq.write_table(table, path)
    return ParquetSource(path)


def notes(emulator) -> Counter:
    return Counter(event["attributes"]["note"] for event in emulator.inspect.events())


def transition_requests(emulator) -> int:
    return emulator.inspect.counters().get("transition", {}).get("requests", 0)


@pytest.fixture
def duckdb_results(tmp_path: Path) -> Iterator[Warehouse]:
    with Warehouse.open(f"duckdb:///{tmp_path / 'results.duckdb'}") as warehouse:
        yield warehouse


def server_client(server, **retry) -> MoEngageClient:
    """A client of the loopback emulator with quick retries and no client-side pacing."""
    emulator = server.emulator.settings
    settings = MoEngageSettings(
        workspace_id=emulator.workspace_id, data_api_key=emulator.data_api_key,
        campaign_api_key=emulator.campaign_api_key, base_url=server.url,
    )
    config = RetryConfig(backoff_initial=0.01, backoff_max=0.05, **retry)
    return MoEngageClient(settings, budget=RateBudget.unlimited(), retry=config)


@pytest.fixture
def server(moengage_emulator_server):
    return moengage_emulator_server


@pytest.fixture
def client(server) -> Iterator[MoEngageClient]:
    with server_client(server) as instance:
        yield instance


def test_rerun_of_a_sent_events_partition_sends_nothing(tmp_path, server, client, state):
    source = write_source(tmp_path / "events.parquet", event_rows(0, 1_500))
    ledger = PushLedger(state)
    first = run_push(source, EVENTS, client, sync_name="events", partition="2025-01-01",
                     options=OPTIONS, ledger=ledger)
    assert first.ok and first.bodies > 10 and first.events_sent == 1_500
    sent_requests = transition_requests(server.emulator)

    again = run_push(source, EVENTS, client, sync_name="events", partition="2025-01-01",
                     options=OPTIONS, ledger=ledger)

    assert again.bodies == 0 and again.events_sent == 0
    assert again.bodies_skipped == first.bodies and again.rows_skipped == 1_500
    assert transition_requests(server.emulator) == sent_requests
    assert set(notes(server.emulator).values()) == {1} and len(notes(server.emulator)) == 1_500
    runs = ledger.runs("events", "2025-01-01").to_pylist()
    assert [run["status"] for run in runs] == ["succeeded", "succeeded"]
    assert [(run["bodies_sent"], run["bodies_skipped"]) for run in runs] == [
        (first.bodies, 0), (0, first.bodies)
    ]
    metadata = again.to_metadata()
    assert metadata["bodies_skipped"] == first.bodies and metadata["rows_skipped"] == 1_500


def test_another_partition_or_sync_is_not_skipped(tmp_path, server, client, duckdb_results):
    source = write_source(tmp_path / "events.parquet", event_rows(0, 300))
    ledger = PushLedger(duckdb_results)
    run_push(source, EVENTS, client, sync_name="events", partition="a", options=OPTIONS,
             ledger=ledger)
    other = run_push(source, EVENTS, client, sync_name="events", partition="b",
                     options=OPTIONS, ledger=ledger)
    assert other.bodies_skipped == 0 and other.events_sent == 300


def test_refused_bodies_are_sent_by_the_next_run_and_every_event_arrives_once(
    tmp_path, server, state
):
    source = write_source(tmp_path / "events.parquet", event_rows(0, 1_500))
    ledger = PushLedger(state)
    # From the sixth request on, MoEngage answers 500 to every attempt.
    server.emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=500,
                                         after=5))
    with server_client(server, max_attempts=2) as client:
        first = run_push(source, EVENTS, client, sync_name="events", partition="p",
                         options=OPTIONS, ledger=ledger)
        assert first.failed_bodies > 0 and first.bodies > 0
        delivered = sum(notes(server.emulator).values())
        assert delivered == first.events_sent
        server.emulator.faults.clear()

        second = run_push(source, EVENTS, client, sync_name="events", partition="p",
                          options=OPTIONS, ledger=ledger)

    assert second.ok and second.bodies_skipped == first.bodies
    assert second.bodies == first.failed_bodies
    received = notes(server.emulator)
    assert len(received) == 1_500 and set(received.values()) == {1}
    assert [run["status"] for run in ledger.runs("events", "p").to_pylist()] == [
        "incomplete", "succeeded"
    ]


class PushInterruptedError(Exception):
    """Stands for whatever stops a push midway (a deploy, a cancelled run)."""


def test_interrupted_push_resumes_at_the_first_unsent_body(tmp_path, server, client, state):
    source = write_source(tmp_path / "events.parquet", event_rows(0, 2_000))
    ledger = PushLedger(state)

    def stop_after_five_bodies(report) -> None:
        if report.bodies >= 5:
            raise PushInterruptedError

    with pytest.raises(PushInterruptedError):
        run_push(source, EVENTS, client, sync_name="events", partition="p", ledger=ledger,
                 options=PushOptions(max_body_bytes=4_000, concurrency=2,
                                     on_progress=stop_after_five_bodies))
    partial = sum(notes(server.emulator).values())
    assert 0 < partial < 2_000

    resumed = run_push(source, EVENTS, client, sync_name="events", partition="p",
                       options=OPTIONS, ledger=ledger)

    received = notes(server.emulator)
    assert len(received) == 2_000 and set(received.values()) == {1}
    # Bodies in flight when the push stopped were still recorded: none is sent twice.
    assert resumed.rows_skipped == partial and resumed.bodies_held == 0
    statuses = [run["status"] for run in ledger.runs("events", "p").to_pylist()]
    assert statuses == ["error", "succeeded"]


KILLED_PUSH = textwrap.dedent(
    """
    import os, sys
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.api.ratebudget import RateBudget
    from moengage_pipelines.config import MoEngageSettings
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.push.ledger import PushLedger
    from moengage_pipelines.sources import ParquetSource
    from moengage_pipelines.warehouse import Warehouse

    url, results, source, mapping = sys.argv[1:5]
    settings = MoEngageSettings(workspace_id="TEST_WORKSPACE", data_api_key="test-data-key",
                                campaign_api_key="test-campaign-key", base_url=url)

    def die(report):
        if report.bodies >= 7:
            os._exit(9)  # no cleanup at all, as with SIGKILL

    with MoEngageClient(settings, budget=RateBudget.unlimited()) as client:
        with Warehouse.open(results) as warehouse:
            run_push(ParquetSource(source), __import__("json").loads(mapping), client,
                     sync_name="events", partition="p", ledger=PushLedger(warehouse),
                     options=PushOptions(max_body_bytes=4_000, concurrency=3, on_progress=die))
    """
)


def test_killed_process_resumes_losing_nothing_and_doubling_only_bodies_in_flight(
    tmp_path, server, client, state_url
):
    import json

    source_path = tmp_path / "events.parquet"
    source = write_source(source_path, event_rows(0, 2_000))
    child = subprocess.run(
        [sys.executable, "-c", KILLED_PUSH, server.url, state_url, str(source_path),
         json.dumps(EVENTS)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    assert child.returncode == 9, child.stderr
    before = notes(server.emulator)
    assert 0 < sum(before.values()) < 2_000

    with Warehouse.open(state_url) as warehouse:
        ledger = PushLedger(warehouse)
        letters = DeadLetterWriter(warehouse)
        killed = ledger.read("events", "p").to_pylist()
        answered = {(row["body_seq"], row["piece"]) for row in killed if row["status"] != "sending"}
        # Bodies that went out and whose answer was never recorded: in flight at the kill.
        in_flight = [
            row for row in killed
            if row["status"] == "sending" and (row["body_seq"], row["piece"]) not in answered
        ]
        resumed = run_push(source, EVENTS, client, sync_name="events", partition="p",
                           options=OPTIONS, ledger=ledger, dead_letters=letters)
        runs = ledger.runs("events", "p").to_pylist()

    received = notes(server.emulator)
    # Nothing lost: every event arrived, at least once.
    assert set(received) == {f"row-{i:05d}" for i in range(2_000)}
    # The 7 bodies answered before the kill had their outcome recorded: none is sent again.
    assert resumed.ok and resumed.bodies_skipped >= 7 and resumed.bodies_held == 0
    # Only bodies in flight at the kill (3 workers) can arrive twice: they went out, their
    # answer was never recorded, so they are sent again (at least once).
    doubled = [note for note, count in received.items() if count > 1]
    assert max(received.values()) <= 2
    assert len(in_flight) <= 3
    assert len(doubled) <= sum(row["rows"] for row in in_flight)
    assert resumed.rows_unaccounted == 0
    assert runs[0]["status"] == "running"  # the killed push never finished


def test_ambiguous_events_body_is_resent_by_default(tmp_path, server, client, state):
    source = write_source(tmp_path / "events.parquet", event_rows(0, 1_000))
    ledger = PushLedger(state)
    # The third body is applied, then its answer is lost: at least once, the client sends it
    # again and that body's events arrive twice, nothing is lost.
    server.emulator.faults.add(FaultRule(endpoint="transition", kind="reset", after=2, count=1))
    first = run_push(source, EVENTS, client, sync_name="events", partition="p",
                     options=OPTIONS, ledger=ledger)
    assert first.ok and first.failed_bodies == 0 and first.rows_unaccounted == 0
    received = notes(server.emulator)
    assert len(received) == 1_000
    doubled = [note for note, count in received.items() if count == 2]
    assert len(doubled) > 0 and sum(received.values()) == 1_000 + len(doubled)
    assert set(Counter(ledger.read("events", "p").column("status").to_pylist())) == {
        "sending", "sent"
    }


def test_ambiguous_events_body_is_held_under_never_and_resent_on_request(
    tmp_path, server, client, state
):
    source = write_source(tmp_path / "events.parquet", event_rows(0, 1_000))
    ledger = PushLedger(state)
    letters = DeadLetterWriter(state)
    never = PushOptions(max_body_bytes=4_000, resend="never")
    # At most once: the client must not retry the body whose answer was lost either.
    server.emulator.faults.add(FaultRule(endpoint="transition", kind="reset", after=2, count=1))
    first = run_push(source, EVENTS, client, sync_name="events", partition="p",
                     options=never, ledger=ledger, dead_letters=letters)
    assert first.failed_bodies == 1 and first.ambiguous_bodies == 1 and not first.ok
    assert first.rows_unaccounted == 0
    assert set(notes(server.emulator).values()) == {1} and len(notes(server.emulator)) == 1_000
    statuses = Counter(ledger.read("events", "p").column("status").to_pylist())
    assert statuses["ambiguous"] == 1
    [lost] = letters.read("events", "p").to_pylist()
    assert lost["rule"] == "delivery_ambiguous" and "may have applied it" in lost["message"]

    held = run_push(source, EVENTS, client, sync_name="events", partition="p",
                    options=never, ledger=ledger, dead_letters=letters)
    assert held.bodies == 0 and held.bodies_held == 1 and held.rows_held > 0
    assert not held.ok and held.rows_unaccounted == 0
    assert held.bodies_skipped == first.bodies
    assert sum(notes(server.emulator).values()) == 1_000
    assert [letter["rule"] for letter in letters.read("events", "p").to_pylist()] == [
        "ambiguous_not_resent"
    ]

    resent = run_push(source, EVENTS, client, sync_name="events", partition="p", ledger=ledger,
                      options=PushOptions(max_body_bytes=4_000, resend="ambiguous"))
    assert resent.bodies == 1 and resent.events_sent == held.rows_held and resent.ok
    # At least once: the body MoEngage had applied is there twice now, nothing else is.
    twice = [note for note, count in notes(server.emulator).items() if count == 2]
    assert len(twice) == held.rows_held

    settled = run_push(source, EVENTS, client, sync_name="events", partition="p",
                       options=never, ledger=ledger)
    assert settled.bodies == 0 and settled.bodies_held == 0 and settled.ok
    assert settled.bodies_skipped == first.bodies + 1

    forced = run_push(source, EVENTS, client, sync_name="events", partition="p", ledger=ledger,
                      options=PushOptions(max_body_bytes=4_000, resend="always"))
    assert forced.bodies_skipped == 0 and forced.events_sent == 1_000


def test_ambiguous_users_body_is_resent_by_default(tmp_path, server, duckdb_results):
    source = write_source(tmp_path / "users.parquet", user_rows(300))
    ledger = PushLedger(duckdb_results)
    server.emulator.faults.add(FaultRule(endpoint="transition", kind="reset", after=1, count=1))
    with server_client(server, max_attempts=1) as client:
        first = run_push(source, USERS, client, sync_name="users", options=OPTIONS,
                         ledger=ledger)
        assert first.failed_bodies == 1
        second = run_push(source, USERS, client, sync_name="users", options=OPTIONS,
                          ledger=ledger)
    assert second.bodies == 1 and second.bodies_held == 0
    # Users are diffed: the rows of the ambiguous body are retried, the others unchanged.
    assert second.rows_retried == second.users_sent == first.ambiguous_rows
    assert second.rows_unchanged == 300 - second.users_sent
    assert len(server.emulator.inspect.users()) == 300


def test_changed_rows_are_sent_and_unchanged_rows_left_out(tmp_path, server, client, state):
    ledger = PushLedger(state)
    first = run_push(write_source(tmp_path / "v1.parquet", user_rows(400)), USERS, client,
                     sync_name="users", options=OPTIONS, ledger=ledger)
    assert first.bodies > 5
    # Same length, so only the body holding row 200 changes.
    changed = write_source(tmp_path / "v2.parquet", user_rows(400, plans={200: "blue"}))

    second = run_push(changed, USERS, client, sync_name="users", options=OPTIONS, ledger=ledger)

    # Users are diffed: only the changed row goes out.
    assert second.bodies == 1 and second.users_sent == 1 and second.rows_unchanged == 399
    assert server.emulator.inspect.users()["user-00200"]["plan"] == "blue"


def test_rows_appended_to_a_partition_are_sent(tmp_path, server, client, duckdb_results):
    ledger = PushLedger(duckdb_results)
    first = run_push(write_source(tmp_path / "v1.parquet", event_rows(0, 1_000)), EVENTS,
                     client, sync_name="events", partition="p", options=OPTIONS, ledger=ledger)
    last = max(ledger.read().to_pylist(), key=lambda row: row["body_seq"])
    grown = write_source(tmp_path / "v2.parquet", event_rows(0, 1_300))

    second = run_push(grown, EVENTS, client, sync_name="events", partition="p",
                      options=OPTIONS, ledger=ledger)

    received = notes(server.emulator)
    assert set(received) == {f"row-{i:05d}" for i in range(1_300)}
    assert second.bodies_skipped == first.bodies - 1
    # The partly filled last body of the first run took more rows and was sent again: its
    # events are the only ones MoEngage got twice (why event partitions should not grow).
    again = {f"row-{i:05d}" for i in range(last["first_row"], last["first_row"] + last["rows"])}
    assert {note for note, count in received.items() if count == 2} == again


def test_identical_bodies_in_one_partition_are_each_sent_once(tmp_path, server, client,
                                                              duckdb_results):
    same = event_rows(7, 8)
    source = write_source(tmp_path / "same.parquet", pa.concat_tables([same] * 600))
    ledger = PushLedger(duckdb_results)
    first = run_push(source, EVENTS, client, sync_name="events", options=OPTIONS, ledger=ledger)
    assert first.bodies > 3
    again = run_push(source, EVENTS, client, sync_name="events", options=OPTIONS, ledger=ledger)
    assert again.bodies == 0 and again.bodies_skipped == first.bodies
    assert notes(server.emulator) == Counter({"row-00007": 600})


def test_dry_runs_read_the_ledger_but_never_write_it(tmp_path, server, client, state):
    source = write_source(tmp_path / "events.parquet", event_rows(0, 500))
    ledger = PushLedger(state)
    dry = PushOptions(max_body_bytes=4_000, dry_run=True)

    planned = run_push(source, EVENTS, None, sync_name="events", options=dry, ledger=ledger)
    assert planned.bodies > 0 and planned.bodies_skipped == 0
    assert not state.table_exists(PushLedger.DEFAULT_TABLE)
    assert not state.table_exists(PushLedger.DEFAULT_RUNS_TABLE)

    sent = run_push(source, EVENTS, client, sync_name="events", options=OPTIONS, ledger=ledger)
    rows = ledger.read().num_rows
    replanned = run_push(source, EVENTS, None, sync_name="events", options=dry, ledger=ledger)
    assert replanned.bodies == 0 and replanned.bodies_skipped == sent.bodies
    assert ledger.read().num_rows == rows and ledger.runs().num_rows == 1


def test_pieces_of_a_split_body_are_not_sent_twice(tmp_path, duckdb_results):
    from moengage_pipelines.emulator import Emulator, EmulatorSettings

    source = write_source(tmp_path / "events.parquet", event_rows(0, 400))
    ledger = PushLedger(duckdb_results)
    # Bodies of up to 12,000 bytes, refused with a 413 above 5,000: each is split.
    with Emulator(EmulatorSettings(transition_max_bytes=5_000)) as emulator:
        settings = emulator.settings
        client_settings = MoEngageSettings(
            workspace_id=settings.workspace_id, data_api_key=settings.data_api_key,
            campaign_api_key=settings.campaign_api_key,
        )
        options = PushOptions(max_body_bytes=12_000)
        with MoEngageClient(client_settings, transport=emulator.transport()) as client:
            first = run_push(source, EVENTS, client, sync_name="events", options=options,
                             ledger=ledger)
            assert first.splits > 0 and first.events_sent == 400
            again = run_push(source, EVENTS, client, sync_name="events", options=options,
                             ledger=ledger)
        received = Counter(event["attributes"]["note"] for event in emulator.inspect.events())
    assert len(received) == 400 and set(received.values()) == {1}
    # Each oversized body is tried again (a 413 applies nothing); its pieces are not sent.
    assert again.events_sent == 0 and again.bodies == 0
    assert again.rows_skipped == 400


def test_resend_policy_is_checked():
    with pytest.raises(ValueError, match="resend must be one of"):
        PushOptions(resend="sometimes")  # type: ignore[arg-type]
