"""A DuckDB state is written a slice of rows at a time: with slices of a few rows, the same
pushes leave exactly the hashes that whole-table slices leave, and classify rows the same way.
Its table has no primary key, so the writer alone keeps each key once: repeated, failed and
sliced pushes leave no key twice.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.push.diff import SYNC_STATE_TABLE, store
from moengage_pipelines.warehouse import Warehouse
from tests.push.test_diff_sync import push, users
from tests.push.test_state import server_client


def _pushes(tmp_path: Path, client, name: str) -> tuple[list[tuple], list[tuple]]:
    """Seed 40 users, then change 6 and add 9; the counts of both and the state left."""
    with Warehouse.open(f"duckdb:///{tmp_path / f'{name}.duckdb'}") as state:
        first = push(tmp_path / f"{name}-1.parquet", users(40), client, state)
        changed = {i: "gold" for i in (0, 6, 7, 13, 21, 39)}
        second = push(tmp_path / f"{name}-2.parquet",
                      users(0, plans=changed, ids=list(range(49))), client, state)
        counts = [
            (report.users_sent, report.rows_new, report.rows_changed, report.rows_unchanged)
            for report in (first, second)
        ]
        rows = state.query(
            f"SELECT row_key, element_hash, pending_hash FROM {SYNC_STATE_TABLE} "
            "ORDER BY row_key"
        ).to_pylist()
    return counts, [tuple(row.values()) for row in rows]


@pytest.fixture
def client(moengage_emulator_server):
    from tests.push.test_state import server_client

    with server_client(moengage_emulator_server) as instance:
        yield instance


def test_small_slices_leave_the_same_state(tmp_path, client, monkeypatch):
    whole_counts, whole_rows = _pushes(tmp_path, client, "whole")
    monkeypatch.setattr(store, "UPDATE_ROWS", 4)
    monkeypatch.setattr(store, "INSERT_ROWS", 3)
    sliced_counts, sliced_rows = _pushes(tmp_path, client, "sliced")

    assert whole_counts == [(40, 40, 0, 0), (15, 9, 6, 34)]
    assert sliced_counts == whole_counts
    assert len(sliced_rows) == 49
    assert all(element and pending is None for _, element, pending in sliced_rows)
    assert sliced_rows == whole_rows


def _copies_of_keys(state: Warehouse) -> tuple[int, int]:
    """Rows of the state table and distinct (sync, destination, key) among them."""
    row = state.query(
        "SELECT count(*) AS total, count(DISTINCT (sync_name, destination, row_key)) AS keys "
        f"FROM {SYNC_STATE_TABLE}"
    ).to_pylist()[0]
    return int(row["total"]), int(row["keys"])


def test_no_key_is_stored_twice_after_repeated_failed_and_sliced_pushes(
    tmp_path, moengage_emulator_server, monkeypatch
):
    monkeypatch.setattr(store, "UPDATE_ROWS", 4)
    monkeypatch.setattr(store, "INSERT_ROWS", 3)
    emulator = moengage_emulator_server.emulator
    # Keys 3 and 7 repeat, within a batch and across batches.
    seed = pa.concat_tables([users(2, ids=[3, 7]), users(30), users(1, ids=[3])])
    with Warehouse.open(f"duckdb:///{tmp_path / 'state.duckdb'}") as state:
        constraints = state.query(
            "SELECT count(*) AS n FROM duckdb_constraints() "
            f"WHERE table_name = '{SYNC_STATE_TABLE}' AND constraint_type IN "
            "('PRIMARY KEY', 'UNIQUE')"
        ).to_pylist()[0]["n"]
        with server_client(moengage_emulator_server, max_attempts=1) as client:
            push(tmp_path / "1.parquet", seed, client, state, batch_rows=8)
            assert constraints == 0 and _copies_of_keys(state) == (30, 30)
            push(tmp_path / "2.parquet", seed, client, state, batch_rows=8, full=True)
            # A body fails for good: its rows stay pending, the next push retries them.
            emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=503,
                                          after=0, count=1))
            changed = users(0, plans={i: "gold" for i in range(0, 45, 2)}, ids=list(range(45)))
            failed = push(tmp_path / "3.parquet", changed, client, state, batch_rows=8)
            assert failed.failed_rows > 0 and _copies_of_keys(state) == (45, 45)
            emulator.faults.clear()
            retried = push(tmp_path / "4.parquet", changed, client, state, batch_rows=8)
            again = push(tmp_path / "5.parquet", changed, client, state, batch_rows=8)
        pending = state.query(
            f"SELECT count(*) AS n FROM {SYNC_STATE_TABLE} WHERE pending_hash IS NOT NULL"
        ).to_pylist()[0]["n"]
        assert _copies_of_keys(state) == (45, 45)
    assert retried.rows_retried == failed.failed_rows
    assert (again.users_sent, again.rows_unchanged, pending) == (0, 45, 0)
