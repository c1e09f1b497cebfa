"""Declared table layouts: primary keys, indexes and views, alike on DuckDB and PostgreSQL.

Rows still go through ``Warehouse.replace_rows`` / ``append`` (the one write path); this
module only makes a table look as declared before it is written: created with its primary key
and indexes, or, for a table written before the key was declared, given the key once its rows
allow it. A table whose rows break the key is never altered: the error names the table, the
key and how many key values repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from moengage_pipelines.warehouse.base import Warehouse
from moengage_pipelines.warehouse.errors import WarehouseError
from moengage_pipelines.warehouse.identifiers import TableName, quote_identifier

__all__ = ["TableLayout", "drop_view", "ensure_layout", "primary_key", "replace_view"]

# PostgreSQL truncates identifiers longer than this; index names are kept below it.
_MAX_IDENTIFIER = 63


@dataclass(frozen=True)
class TableLayout:
    """What a table must look like: its columns, primary key and indexes.

    Attributes:
        name: ``"name"`` or ``"schema.name"``.
        schema: The Arrow schema of the rows written to it.
        primary_key: Key columns (NOT NULL, unique together); empty for no key.
        indexes: Column lists to index (non-unique), e.g. ``(("date",),)``.
    """

    name: str
    schema: pa.Schema
    primary_key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        for columns in (self.primary_key, *self.indexes):
            unknown = [column for column in columns if column not in self.schema.names]
            if unknown:
                raise ValueError(f"layout of {self.name}: no column(s) {unknown} in the schema")


def _column_list(columns: Sequence[str]) -> str:
    return ", ".join(quote_identifier(column) for column in columns)


def primary_key(warehouse: Warehouse, table: str | TableName) -> list[str]:
    """The primary key columns of a table, in key order (empty: no key, or no table)."""
    name = warehouse.table_name(table)
    if not warehouse.table_exists(name):
        return []
    if warehouse.kind == "duckdb":
        result = warehouse.query(
            "SELECT constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type = 'PRIMARY KEY' AND table_name = $1 "
            "AND schema_name = coalesce($2, current_schema()) "
            "AND database_name = current_database()",
            [name.name, name.schema],
        )
        values = result.column(0).to_pylist() if result.num_rows else [[]]
        return [str(column) for column in values[0]]
    result = warehouse.query(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a "
        "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = to_regclass($1) AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        [name.sql],
    )
    return [str(column) for column in result.column(0).to_pylist()] if result.num_rows else []


def ensure_layout(warehouse: Warehouse, layout: TableLayout) -> None:
    """Create the table as declared, or bring an existing one to the declared layout.

    A missing table is created with its primary key and indexes. An existing table gets the
    columns it lacks, then the primary key if it has none (only when no key value is NULL or
    repeated), then any missing index. A table whose key is different is left alone.

    Raises:
        WarehouseError: If an existing table's rows break the key (the message says how many
            key values repeat and what to do), or a statement fails.
    """
    name = warehouse.table_name(layout.name)
    key = list(layout.primary_key)
    if not warehouse.table_exists(name):
        types = warehouse._column_types(layout.schema)
        columns = [f"{quote_identifier(field)} {types[field]}" for field in layout.schema.names]
        if key:
            columns.append(f"PRIMARY KEY ({_column_list(key)})")
        if name.schema:
            warehouse.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(name.schema)}")
        # IF NOT EXISTS: another process may create it meanwhile; its layout is the same.
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {name.sql} ({', '.join(columns)})")
    else:
        _add_missing_columns(warehouse, name, layout.schema)
        if key and not primary_key(warehouse, name):
            _add_primary_key(warehouse, name, key)
    for columns in layout.indexes:
        index = _index_name(name, columns)
        warehouse.execute(
            f"CREATE INDEX IF NOT EXISTS {quote_identifier(index)} ON {name.sql} "
            f"({_column_list(columns)})"
        )


def _add_missing_columns(warehouse: Warehouse, name: TableName, schema: pa.Schema) -> None:
    existing = warehouse.columns(name)
    missing = [field for field in schema.names if field not in existing]
    if not missing:
        return
    types = warehouse._column_types(schema)
    for field in missing:
        warehouse.execute(
            f"ALTER TABLE {name.sql} ADD COLUMN {quote_identifier(field)} {types[field]}"
        )


def _add_primary_key(warehouse: Warehouse, name: TableName, key: list[str]) -> None:
    columns = _column_list(key)
    nulls = " OR ".join(f"{quote_identifier(column)} IS NULL" for column in key)
    repeated = (
        warehouse.query(
            f"SELECT count(*) FROM (SELECT {columns} FROM {name.sql} GROUP BY {columns} "
            "HAVING count(*) > 1) AS repeated"
        )
        .column(0)[0]
        .as_py()
    )
    empty = warehouse.query(f"SELECT count(*) FROM {name.sql} WHERE {nulls}").column(0)[0].as_py()
    if repeated or empty:
        raise WarehouseError(
            f"{name} has no primary key and its rows cannot take ({', '.join(key)}): "
            f"{repeated} key value(s) appear more than once and {empty} row(s) have a NULL key "
            f"column. Remove the repeats (or drop the table so it is written again), then re-run."
        )
    warehouse.execute(f"ALTER TABLE {name.sql} ADD PRIMARY KEY ({columns})")


def _index_name(table: TableName, columns: Sequence[str]) -> str:
    name = f"{table.name}_{'_'.join(columns)}_idx"
    if len(name) <= _MAX_IDENTIFIER:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: _MAX_IDENTIFIER - 13]}_{digest}_idx"


def replace_view(warehouse: Warehouse, name: str | TableName, select_sql: str) -> None:
    """Create or replace a view (dropped first: PostgreSQL cannot change a view's columns)."""
    view = warehouse.table_name(name)
    drop_view(warehouse, view)
    if view.schema:
        warehouse.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(view.schema)}")
    warehouse.execute(f"CREATE VIEW {view.sql} AS {select_sql}")


def drop_view(warehouse: Warehouse, name: str | TableName) -> None:
    """Drop a view if it exists (a table of that name is left alone)."""
    view = warehouse.table_name(name)
    if _is_view(warehouse, view):
        warehouse.execute(f"DROP VIEW {view.sql}")


def _is_view(warehouse: Warehouse, name: TableName) -> bool:
    if warehouse.kind == "duckdb":
        sql = (
            "SELECT count(*) FROM duckdb_views() WHERE view_name = $1 "
            "AND schema_name = coalesce($2, current_schema()) "
            "AND database_name = current_database()"
        )
        return bool(warehouse.query(sql, [name.name, name.schema]).column(0)[0].as_py())
    sql = "SELECT count(*) FROM pg_class WHERE oid = to_regclass($1) AND relkind = 'v'"
    return bool(warehouse.query(sql, [name.sql]).column(0)[0].as_py())
