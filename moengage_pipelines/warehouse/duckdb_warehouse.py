"""The DuckDB backend of ``Warehouse``."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pyarrow as pa

from moengage_pipelines.warehouse.base import (
    DEFAULT_BATCH_ROWS,
    Params,
    Warehouse,
    require_rows_positive,
)
from moengage_pipelines.warehouse.errors import WarehouseError
from moengage_pipelines.warehouse.identifiers import TableName, quote_identifier, quote_literal
from moengage_pipelines.warehouse.url import MEMORY, WarehouseURL

__all__ = ["DuckDBWarehouse"]


class DuckDBWarehouse(Warehouse, kind="duckdb"):
    """A DuckDB database file (or an in-memory database).

    One connection is shared under a lock; each stream from ``read_batches`` runs on its own
    cursor so a long read does not block writes from the same process. The session time zone
    is UTC so ``TIMESTAMPTZ`` values never depend on the machine's zone.

    Args:
        url: A parsed ``duckdb`` URL.
        read_only: Open the file read-only, so several processes can read it at once.
    """

    driver_errors: ClassVar[tuple[type[Exception], ...]] = (duckdb.Error,)

    def __init__(self, url: WarehouseURL, *, read_only: bool = False) -> None:
        super().__init__(url)
        self._con = _connect(url.target, read_only=read_only)
        self._con.execute("SET TimeZone = 'UTC'")
        if url.schema:
            if not read_only:
                self._con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(url.schema)}")
            self._con.execute(f"SET schema = {quote_literal(url.schema)}")
        self.read_only = read_only
        # Each batch written is registered under this name for its INSERT.
        self._load_view = f"moengage_load_{uuid.uuid4().hex}"

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
        self, sql: str, batch_rows: int = DEFAULT_BATCH_ROWS, params: Params = None
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

    # -- write hooks (see Warehouse._write) -------------------------------------------------

    @contextlib.contextmanager
    def _write_transaction(self, table: TableName) -> Iterator[None]:
        if self.read_only:
            raise WarehouseError(f"{self.describe()} is open read-only; cannot write {table}")
        self._con.begin()
        try:
            yield
            self._con.commit()
        except BaseException:
            self._con.rollback()
            raise
        finally:
            # Unregistering is only possible once the transaction has ended.
            with contextlib.suppress(duckdb.Error):
                self._con.unregister(self._load_view)

    def _run(self, sql: str, params: Params = None) -> None:
        self._con.execute(sql, _params(params))

    def _column_types(self, schema: pa.Schema) -> dict[str, str]:
        # DuckDB's own reading of the Arrow types, as a query over Arrow data would see them.
        relation = self._con.from_arrow(schema.empty_table())
        types = relation.types
        return {name: str(kind) for name, kind in zip(relation.columns, types, strict=True)}

    def _bulk_insert(
        self, table: TableName, schema: pa.Schema, batches: Iterator[pa.RecordBatch]
    ) -> int:
        rows = 0
        for batch in batches:
            if not batch.num_rows:
                continue
            # Re-registering the name replaces the previous batch's view.
            self._con.register(self._load_view, batch)
            self._con.execute(f"INSERT INTO {table.sql} BY NAME SELECT * FROM {self._load_view}")
            rows += batch.num_rows
        return rows

    def _disconnect(self) -> None:
        self._con.close()


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
