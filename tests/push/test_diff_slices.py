"""A DuckDB state is written a slice of rows at a time: with slices of a few rows, the same
pushes leave exactly the hashes that whole-table slices leave, and classify rows the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moengage_pipelines.push.diff import SYNC_STATE_TABLE, store
from moengage_pipelines.warehouse import Warehouse
from tests.push.test_diff_sync import push, users


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
