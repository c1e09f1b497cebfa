"""The DuckDB backend of ``Warehouse``."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from moengage_pipelines.warehouse.base import Params, Warehouse, require_rows_positive
from moengage_pipelines.warehouse.errors import TableNotFoundError, WarehouseError
from moengage_pipelines.warehouse.identifiers import TableName, quote_identifier
from moengage_pipelines.warehouse.url import MEMORY, WarehouseURL

__all__ = ["DuckDBWarehouse"]


class DuckDBWarehouse(Warehouse):
    """A DuckDB database file (or an in-memory database).

    One connection is shared under a lock; each stream from ``read_batches`` runs on its own
    cursor so a long read does not block writes from the same process. The session time zone
    is UTC so ``TIMESTAMPTZ`` values never depend on the machine's zone.
    """

    kind: ClassVar[str] = "duckdb"

    def __init__(self, url: WarehouseURL, *, read_only: bool = False) -> None:
        super().__init__(url)
        self._lock = threading.RLock()
        self._closed = False
        self._con = _connect(url.target, read_only=read_only)
        self._con.execute("SET TimeZone = 'UTC'")
        if url.schema:
            if not read_only:
                self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(url.schema)}")
            self._con.execute(f"SET schema = '{url.schema.replace(chr(39), chr(39) * 2)}'")
        self.read_only = read_only

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The underlying DuckDB connection (for DuckDB-specific work)."""
        return self._con

    def query(self, sql: str, params: Params = None) -> pa.Table:
        """Run a statement and return its result as an Arrow table (see ``Warehouse``)."""
        with self._lock:
            try:
                relation = self._con.sql(sql, params=_params(params))
                return relation.to_arrow_table() if relation is not None else pa.table({})
            except duckdb.Error as exc:
                raise WarehouseError(f"DuckDB query failed on {self.describe()}: {exc}") from exc

    def read_batches(
        self, sql: str, batch_rows: int = 65_536, params: Params = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream a query's result as record batches (see ``Warehouse``)."""
        batch_rows = require_rows_positive(batch_rows)
        with self._lock:
            cursor = self._con.cursor()
        try:
            cursor.execute("SET TimeZone = 'UTC'")
            try:
                relation = cursor.sql(sql, params=_params(params))
                if relation is None:
                    return
                reader = relation.to_arrow_reader(batch_rows)
            except duckdb.Error as exc:
                raise WarehouseError(f"DuckDB query failed on {self.describe()}: {exc}") from exc
            for batch in reader:
                if batch.num_rows:
                    yield batch
        finally:
            cursor.close()

    def table_exists(self, table: str | TableName) -> bool:
        """Tell whether a table or view exists."""
        name = self.table_name(table)
        result = self.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = $1 "
            "AND table_schema = coalesce($2, current_schema()) "
            "AND table_catalog = current_database()",
            [name.name, name.schema],
        )
        return bool(result.column(0)[0].as_py())

    def columns(self, table: str | TableName) -> list[str]:
        """Return a table's column names in order (empty if it does not exist)."""
        name = self.table_name(table)
        result = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = $1 "
            "AND table_schema = coalesce($2, current_schema()) "
            "AND table_catalog = current_database() ORDER BY ordinal_position",
            [name.name, name.schema],
        )
        return [str(value) for value in result.column(0).to_pylist()]

    def _write(
        self,
        table: TableName,
        schema: pa.Schema | None,
        batches: Iterator[pa.RecordBatch],
        where: Mapping[str, Any],
        *,
        replace: bool,
    ) -> int:
        if self.read_only:
            raise WarehouseError(f"{self.describe()} is open read-only; cannot write {table}")
        view = f"moengage_data_{uuid.uuid4().hex}"
        rows = 0
        with self._lock:
            con = self._con
            con.begin()
            try:
                existing = self._prepare_table(table, schema, view)
                if replace:
                    clause, params = self.where_clause(table, where, existing)
                    con.execute(f"DELETE FROM {table.sql}{clause}", params)
                for batch in batches:
                    if not batch.num_rows:
                        continue
                    # Re-registering the name replaces the previous batch's view.
                    con.register(view, batch)
                    con.execute(f"INSERT INTO {table.sql} BY NAME SELECT * FROM {view}")
                    rows += batch.num_rows
                con.commit()
            except BaseException as exc:
                con.rollback()
                if isinstance(exc, duckdb.Error):
                    raise WarehouseError(
                        f"writing {str(table)!r} in {self.describe()} failed: {exc}"
                    ) from exc
                raise
            finally:
                # Unregistering is only possible once the transaction has ended.
                with contextlib.suppress(duckdb.Error):
                    con.unregister(view)
        return rows

    def _prepare_table(self, table: TableName, schema: pa.Schema | None, view: str) -> list[str]:
        """Create the table or add the columns it lacks; return its column names."""
        existing = self.columns(table)
        if schema is None:
            if not existing:
                raise TableNotFoundError(str(table), self.describe())
            return existing
        if table.schema:
            self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(table.schema)}")
        self._con.register(view, schema.empty_table())
        if not existing:
            self._con.execute(f"CREATE TABLE {table.sql} AS SELECT * FROM {view} LIMIT 0")
            return list(schema.names)
        types = _describe(self._con, view)
        for column in schema.names:
            if column not in existing:
                self._con.execute(
                    f"ALTER TABLE {table.sql} ADD COLUMN {quote_identifier(column)} {types[column]}"
                )
                existing.append(column)
        return existing

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._con.close()


def _describe(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall()
    return {str(row[0]): str(row[1]) for row in rows}


def _params(params: Params) -> Any:
    if params is None:
        return None
    return dict(params) if isinstance(params, Mapping) else list(params)


def _connect(path: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    if path != MEMORY:
        file = Path(path)
        if read_only and not file.exists():
            raise WarehouseError(f"DuckDB database {path!r} does not exist")
        if not read_only:
            file.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(path, read_only=read_only and path != MEMORY)
    except duckdb.ConnectionException as exc:
        # This process already has the file open read-write; DuckDB refuses a second,
        # differently configured instance, but a plain connection shares the open one.
        if read_only and "different configuration" in str(exc):
            return duckdb.connect(path)
        raise WarehouseError(f"cannot open DuckDB database {path!r}: {exc}") from exc
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open DuckDB database {path!r}: {exc}") from exc
