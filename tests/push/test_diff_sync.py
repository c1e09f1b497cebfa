"""Diff sync of users against the emulator as a real server, with the state in DuckDB or
PostgreSQL: unchanged rows are not sent, changed and new rows are, failed rows come back.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.push.diff import SYNC_STATE_TABLE
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.warehouse import Warehouse
from tests.push.test_state import server_client, transition_requests, write_source

USERS = {"entity": "users", "customer_id": "uid", "first_name": "first",
         "attributes": {"plan": "plan"}}
OPTIONS = PushOptions(max_body_bytes=4_000, concurrency=2)


def users(n: int, plans: dict[int, str] | None = None, ids: list[int] | None = None) -> pa.Table:
    plans = plans or {}
    ids = list(range(n)) if ids is None else ids
    return pa.table({
        "uid": [f"user-{i:05d}" for i in ids],
        "first": [f"First {i}" for i in ids],
        "plan": [plans.get(i, "free") for i in ids],
    })


@pytest.fixture
def server(moengage_emulator_server):
    return moengage_emulator_server


@pytest.fixture
def client(server):
    with server_client(server) as instance:
        yield instance


def push(path: Path, table: pa.Table, client, state: Warehouse, **options):
    return run_push(write_source(path, table), USERS, client, sync_name="users",
                    ledger=PushLedger(state), dead_letters=None,
                    options=PushOptions(**{**OPTIONS.__dict__, **options}))


def test_unchanged_resync_sends_nothing(tmp_path, server, client, state):
    first = push(tmp_path / "a.parquet", users(500), client, state)
    assert first.users_sent == 500 and first.rows_new == 500
    before = transition_requests(server.emulator)

    again = push(tmp_path / "b.parquet", users(500), client, state)

    assert transition_requests(server.emulator) == before
    assert (again.bodies, again.users_sent, again.rows_unchanged) == (0, 0, 500)
    assert again.ok and again.rows_unaccounted == 0


def test_only_new_and_changed_rows_are_sent(tmp_path, server, client, state):
    push(tmp_path / "a.parquet", users(500), client, state)
    changed = {7: "gold", 250: "blue", 499: "pro"}

    second = push(tmp_path / "b.parquet", users(520, plans=changed), client, state)

    assert (second.rows_changed, second.rows_new) == (3, 20)
    assert second.users_sent == 23 and second.rows_unchanged == 497
    stored = server.emulator.inspect.users()
    assert {stored[f"user-{i:05d}"]["plan"] for i in changed} == set(changed.values())
    assert "user-00519" in stored


def test_full_resends_every_row(tmp_path, server, client, state):
    push(tmp_path / "a.parquet", users(300), client, state)
    full = push(tmp_path / "b.parquet", users(300, plans={1: "gold"}), client, state, full=True)
    assert full.users_sent == 300
    assert (full.rows_refreshed, full.rows_changed, full.rows_unchanged) == (299, 1, 0)
    after = push(tmp_path / "c.parquet", users(300, plans={1: "gold"}), client, state)
    assert after.users_sent == 0 and after.rows_unchanged == 300


def test_failed_rows_are_retried_without_a_source_change(tmp_path, server, state):
    # The third request fails for good: its rows are not confirmed.
    server.emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=503,
                                         after=2, count=1))
    with server_client(server, max_attempts=1) as client:
        first = push(tmp_path / "a.parquet", users(400), client, state)
        assert first.failed_bodies == 1 and first.failed_rows > 0
        second = push(tmp_path / "b.parquet", users(400), client, state)
        third = push(tmp_path / "c.parquet", users(400), client, state)
    assert second.rows_retried == first.failed_rows
    assert second.users_sent == first.failed_rows
    assert second.rows_unchanged == 400 - first.failed_rows
    assert (third.users_sent, third.rows_retried) == (0, 0)
    assert len(server.emulator.inspect.users()) == 400


def test_a_repeated_key_last_occurrence_wins(tmp_path, server, client, state):
    # Key 5 five times and key 6 twice, within a batch and across batches (16 rows each).
    table = pa.concat_tables([
        users(3, ids=[5, 6, 5], plans={5: "superseded"}), users(50),
        users(1, plans={5: "second"}, ids=[5]), users(20, ids=list(range(50, 70))),
        users(1, plans={5: "third"}, ids=[5]),
    ])
    report = push(tmp_path / "a.parquet", table, client, state, batch_rows=16)
    # Only the last occurrence of a key is sent, whatever batch the others are in.
    assert report.duplicate_keys == report.rows_superseded == 4 + 1
    assert report.users_sent == 70 and report.rows_unaccounted == 0
    assert server.emulator.inspect.users()["user-00005"]["plan"] == "third"
    assert server.emulator.inspect.counters()["transition"]["requests"] == report.bodies
    stored = {row["row_key"]: row for row in state.query(
        f"SELECT row_key, element_hash, row_number FROM {SYNC_STATE_TABLE}").to_pylist()}
    assert stored["user-00005"]["row_number"] == table.num_rows - 1
    again = push(tmp_path / "b.parquet", table, client, state, batch_rows=16)
    assert again.users_sent == 0 and again.rows_unchanged == 70 and again.duplicate_keys == 5


def test_a_dry_run_classifies_and_writes_nothing(tmp_path, server, client, state):
    push(tmp_path / "a.parquet", users(200), client, state)
    rows_before = state.query(f"SELECT * FROM {SYNC_STATE_TABLE} ORDER BY row_key")
    changed = write_source(tmp_path / "b.parquet", users(210, plans={3: "gold"}))
    dry = run_push(changed, USERS, None, sync_name="users", ledger=PushLedger(state),
                   dead_letters=None, options=PushOptions(max_body_bytes=4_000, dry_run=True))
    assert (dry.rows_new, dry.rows_changed, dry.rows_unchanged) == (10, 1, 199)
    assert dry.users_sent == 11
    assert state.query(f"SELECT * FROM {SYNC_STATE_TABLE} ORDER BY row_key").equals(rows_before)


def test_catalog_items_are_diffed_and_mirror_mode_still_sees_unchanged_ones(
    tmp_path, server, client, state
):
    from moengage_pipelines.push.catalog.state import WarehouseCatalogState
    from tests.push.test_catalog import MAPPING, _items

    mirror = {**MAPPING, "mirror": True}

    def catalog_push(name: str, skus: list[str], price: float = 9.5):
        rows = write_source(tmp_path / name, pa.table(_items(skus, price)))
        return run_push(rows, mirror, client, sync_name="catalog", ledger=PushLedger(state),
                        dead_letters=None, catalog_state=WarehouseCatalogState(state))

    first = catalog_push("a.parquet", ["s-1", "s-2", "s-3"])
    assert first.items_sent == 3
    again = catalog_push("b.parquet", ["s-1", "s-2", "s-3"])
    assert (again.items_sent, again.rows_unchanged, again.items_deleted) == (0, 3, 0)
    # s-3 leaves the source: mirror mode deletes it; unchanged s-1 and s-2 stay known.
    gone = catalog_push("c.parquet", ["s-1", "s-2"])
    assert (gone.items_sent, gone.items_deleted) == (0, 1)
    later = catalog_push("d.parquet", ["s-2"])
    assert later.items_deleted == 1 and later.rows_unchanged == 1
    # A deleted item that comes back is new again, and sent.
    back = catalog_push("e.parquet", ["s-1", "s-2"])
    assert (back.items_sent, back.rows_new, back.rows_unchanged) == (1, 1, 1)
