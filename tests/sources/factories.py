"""Build each kind of source over the same Arrow table, on real files and databases."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.sources import DuckDBSource, ParquetSource, PostgresSource, Source
from moengage_pipelines.warehouse import Warehouse

SourceFactory = Callable[..., Source]

KINDS = [
    "parquet",
    "duckdb_table",
    "duckdb_sql",
    pytest.param("postgres_table", marks=pytest.mark.postgres),
    pytest.param("postgres_sql", marks=pytest.mark.postgres),
]


@pytest.fixture(params=KINDS)
def make_source(request: pytest.FixtureRequest, tmp_path: Path) -> SourceFactory:
    """``make_source(table, time_column=None)`` on each backend in turn."""
    kind: str = request.param

    def build(data: pa.Table, time_column: str | None = None) -> Source:
        if kind == "parquet":
            path = tmp_path / "events.parquet"
            pq.write_table(data, path)
            return ParquetSource(path, time_column=time_column)
        if kind.startswith("duckdb"):
            path = tmp_path / "source.duckdb"
            with Warehouse.open(f"duckdb://{path}") as warehouse:
                warehouse.replace_rows("events", data)
            if kind == "duckdb_table":
                return DuckDBSource(path, table="events", time_column=time_column)
            return DuckDBSource(path, sql="SELECT * FROM events", time_column=time_column)
        url = request.getfixturevalue("pg_url")
        with Warehouse.open(url) as warehouse:
            warehouse.replace_rows("events", data)
        if kind == "postgres_table":
            return PostgresSource(url, table="events", time_column=time_column)
        return PostgresSource(url, sql="SELECT * FROM events", time_column=time_column)

    build.kind = kind  # type: ignore[attr-defined]
    return build


def read_all(source: Source, **kwargs) -> pa.Table:
    batches = list(source.iter_batches(**kwargs))
    if not batches:
        return pa.table({})
    return pa.Table.from_batches(batches)
