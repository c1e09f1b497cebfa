"""Turn a component's ``source`` block into a library ``Source``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from moengage_pipelines.sources import DuckDBSource, ParquetSource, PostgresSource, Source

if TYPE_CHECKING:
    from dagster_project.components.moengage_push import SourceModel

__all__ = ["source_for"]


def source_for(model: SourceModel, warehouse_url: str) -> Source:
    """Build the source a push reads: a Parquet path, or a table/SQL in the warehouse."""
    if model.parquet:
        return ParquetSource(model.parquet, time_column=model.time_column)
    if warehouse_url.startswith("duckdb://"):
        database = warehouse_url.removeprefix("duckdb://").removeprefix("/") or ":memory:"
        database = database if database == ":memory:" else "/" + database
        return DuckDBSource(
            database, table=model.table, sql=model.sql, time_column=model.time_column
        )
    return PostgresSource(
        warehouse_url, table=model.table, sql=model.sql, time_column=model.time_column
    )
