"""A stable row order is what lets the ledger recognise bodies: ``order_by`` on SQL sources."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.sources import DuckDBSource, PostgresSource, open_source
from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.warehouse import ColumnNotFoundError, Warehouse

USERS = {"entity": "users", "customer_id": "uid", "first_name": "first"}
OPTIONS = PushOptions(max_body_bytes=2_000)


def _rows(order: list[int]) -> pa.Table:
    return pa.table({
        "uid": [f"user-{i:04d}" for i in order],
        "first": [f"Name {i}" for i in order],
    })


@pytest.fixture(params=["duckdb", "postgres"])
def database(request, tmp_path: Path) -> Iterator[tuple[Warehouse, type]]:
    """A source database (and its source class) the test may rewrite."""
    if request.param == "duckdb":
        with Warehouse.open(f"duckdb:///{tmp_path / 'source.duckdb'}") as warehouse:
            yield warehouse, DuckDBSource
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"order_{uuid.uuid4().hex[:12]}"
    with Warehouse.open(dsn, schema=schema) as warehouse:
        try:
            yield warehouse, PostgresSource
        finally:
            warehouse.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_rewritten_table_gives_the_same_bodies_in_key_order(database, tmp_path, client):
    warehouse, source_class = database
    ids = list(range(600))
    warehouse.replace_rows("users", _rows(ids))
    source = source_class(warehouse, table="users", order_by="uid")
    with Warehouse.open(f"duckdb:///{tmp_path / 'results.duckdb'}") as results:
        ledger = PushLedger(results)
        first = run_push(source, USERS, client, sync_name="users", options=OPTIONS,
                         ledger=ledger)
        assert first.bodies > 5

        # Same rows, stored in another order (as a reload or a vacuum may leave them).
        random.Random(7).shuffle(ids)
        warehouse.replace_rows("users", _rows(ids))
        scan_order = source_class(warehouse, table="users")
        # Another sync, so that the diff sync of "users" does not leave its rows out.
        unordered = run_push(scan_order, USERS, client, sync_name="users-unordered",
                             options=OPTIONS,
                             ledger=PushLedger(results, table="other_ledger",
                                               runs_table="other_runs"))
        assert unordered.users_sent == 600  # no ledger entries: everything goes out
        ordered = run_push(source, USERS, client, sync_name="users", options=OPTIONS,
                           ledger=ledger)

    # Users are diffed: rows MoEngage confirmed are left out before bodies are packed.
    assert ordered.bodies == 0 and ordered.rows_unchanged == 600
    assert "ordered by uid" in source.describe()


def test_order_by_names_a_missing_column(tmp_path):
    with Warehouse.open(f"duckdb:///{tmp_path / 'source.duckdb'}") as warehouse:
        warehouse.replace_rows("users", _rows([1, 2]))
        source = DuckDBSource(warehouse, table="users", order_by=["uid", "signup"])
        with pytest.raises(ColumnNotFoundError, match="signup"):
            list(source.iter_batches())


def test_open_source_passes_order_by_and_refuses_it_for_parquet(tmp_path):
    database = tmp_path / "source.duckdb"
    with Warehouse.open(f"duckdb:///{database}") as warehouse:
        warehouse.replace_rows("users", _rows([3, 1, 2]))
    source = open_source(f"duckdb:///{database}", table="users", order_by=["uid"])
    uids = [uid for batch in source.iter_batches() for uid in batch.column("uid").to_pylist()]
    assert uids == ["user-0001", "user-0002", "user-0003"]
    spec = {"database": f"duckdb:///{database}", "table": "users", "order_by": "first"}
    assert open_source(spec).order_by == ("first",)
    with pytest.raises(SourceError, match="file order"):
        open_source(str(tmp_path / "x.parquet"), order_by="uid")
