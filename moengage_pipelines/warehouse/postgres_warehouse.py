"""The PostgreSQL backend of ``Warehouse`` (psycopg 3).

Writes stream Arrow batches through ``COPY ... FROM STDIN``; streamed reads use a server-side
cursor on a connection of their own.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any, ClassVar

import psycopg
import pyarrow as pa

from moengage_pipelines.redaction import scrub_secrets, url_secrets
from moengage_pipelines.warehouse.base import (
    DEFAULT_BATCH_ROWS,
    Params,
    Warehouse,
    require_rows_positive,
)
from moengage_pipelines.warehouse.errors import WarehouseError
from moengage_pipelines.warehouse.identifiers import TableName, quote_identifier
from moengage_pipelines.warehouse.postgres_types import (
    RowDecoder,
    encode_copy_csv,
    postgres_type,
    use_text_loaders,
)
from moengage_pipelines.warehouse.url import WarehouseURL

__all__ = ["PostgresWarehouse"]


class PostgresWarehouse(Warehouse, kind="postgres"):
    """A PostgreSQL database, optionally scoped to a schema.

    Parameters are positional ``$1``, ``$2``, ... as in DuckDB. The connection runs in
    autocommit mode with explicit transactions around each write, the session time zone is
    UTC, and, when a schema is set, ``search_path`` starts with it so unqualified names in raw
    SQL resolve there too.

    Args:
        url: A parsed ``postgres`` URL.
        read_only: Accepted so every backend opens alike; what a PostgreSQL user may write is
            up to its grants.
    """

    driver_errors: ClassVar[tuple[type[Exception], ...]] = (psycopg.Error,)

    def __init__(self, url: WarehouseURL, *, read_only: bool = False) -> None:
        super().__init__(url)
        self._secrets = url_secrets(url.target)
        self._conn = self._connect()

    @property
    def connection(self) -> psycopg.Connection[Any]:
        """The underlying psycopg connection (for PostgreSQL-specific work)."""
        return self._conn

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.url.target, autocommit=True)
        except psycopg.Error as exc:
            # Re-raised without the original so no driver text can carry the DSN along.
            raise WarehouseError(
                f"cannot connect to {self.describe()}: {self._error_text(exc)}"
            ) from None
        # Raw cursors take PostgreSQL's own $1, $2 placeholders (as DuckDB does) and leave a
        # literal % in the SQL alone.
        conn.cursor_factory = psycopg.RawCursor
        conn.server_cursor_factory = psycopg.RawServerCursor
        use_text_loaders(conn)
        conn.execute("SET TIME ZONE 'UTC'")
        if self.url.schema:
            schema = quote_identifier(self.url.schema)
            # Created up front so raw DDL lands in the schema rather than falling through to
            # "public"; a user without CREATE rights can still read an existing schema.
            with contextlib.suppress(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            conn.execute(f"SET search_path TO {schema}, public")
        return conn

    def _error_text(self, exc: BaseException) -> str:
        # libpq may quote the connection string, password included.
        return scrub_secrets(str(exc), self._secrets)

    def _error(self, action: str, exc: psycopg.Error) -> WarehouseError:
        return WarehouseError(f"{action} on {self.describe()} failed: {self._error_text(exc)}")

    def query(self, sql: str, params: Params = None) -> pa.Table:
        """Run a statement and return its result as an Arrow table (see ``Warehouse``)."""
        with self._lock:
            try:
                with self._conn.cursor() as cursor:
                    cursor.execute(sql, params)
                    if cursor.description is None:
                        return pa.table({})
                    decoder = RowDecoder(cursor.description)
                    batch = decoder.to_batch(cursor.fetchall())
                    return pa.Table.from_batches([batch], schema=decoder.schema)
            except psycopg.Error as exc:
                raise self._error("query", exc) from exc

    def read_batches(
        self, sql: str, batch_rows: int = DEFAULT_BATCH_ROWS, params: Params = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream a query's result through a server-side cursor (see ``Warehouse``)."""
        batch_rows = require_rows_positive(batch_rows)
        conn = self._connect()
        try:
            with conn.transaction(), conn.cursor(name=f"moengage_{uuid.uuid4().hex}") as cursor:
                cursor.itersize = batch_rows
                try:
                    cursor.execute(sql, params)
                except psycopg.Error as exc:
                    raise self._error("query", exc) from exc
                decoder = RowDecoder(cursor.description or [])
                while rows := cursor.fetchmany(batch_rows):
                    yield decoder.to_batch(rows)
        except psycopg.Error as exc:
            raise self._error("streaming read", exc) from exc
        finally:
            conn.close()

    def table_exists(self, table: str | TableName) -> bool:
        """Tell whether a table or view exists (searching ``search_path`` if unqualified)."""
        return self._regclass(self.table_name(table)) is not None

    def _regclass(self, name: TableName) -> int | None:
        result = self.query("SELECT to_regclass($1)::oid", [name.sql])
        value = result.column(0)[0].as_py()
        return int(value) if value is not None else None

    def columns(self, table: str | TableName) -> list[str]:
        """Return a table's column names in order (empty if it does not exist)."""
        oid = self._regclass(self.table_name(table))
        if oid is None:
            return []
        result = self.query(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            [oid],
        )
        return [str(value) for value in result.column(0).to_pylist()]

    # -- write hooks (see Warehouse._write) -------------------------------------------------

    def _write_transaction(self, table: TableName) -> contextlib.AbstractContextManager[object]:
        return self._conn.transaction()

    def _run(self, sql: str, params: Params = None) -> None:
        self._conn.execute(sql, params)

    def _column_types(self, schema: pa.Schema) -> dict[str, str]:
        return {field.name: postgres_type(field.type) for field in schema}

    def _bulk_insert(
        self, table: TableName, schema: pa.Schema, batches: Iterator[pa.RecordBatch]
    ) -> int:
        # COPY takes the rows as CSV in one stream per write, far faster than INSERTs.
        names = list(schema.names)
        column_list = ", ".join(quote_identifier(name) for name in names)
        rows = 0
        with (
            self._conn.cursor() as cursor,
            cursor.copy(f"COPY {table.sql} ({column_list}) FROM STDIN (FORMAT csv)") as copy,
        ):
            for batch in batches:
                if not batch.num_rows:
                    continue
                missing = [name for name in names if name not in batch.schema.names]
                if missing:
                    raise WarehouseError(
                        f"a batch written to {str(table)!r} lacks column(s) {missing}"
                    )
                copy.write(encode_copy_csv(batch.select(names)))
                rows += batch.num_rows
        return rows

    def _disconnect(self) -> None:
        self._conn.close()
