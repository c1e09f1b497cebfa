"""``Warehouse``: one interface over DuckDB and PostgreSQL.

Reads come back as Arrow (a whole table, or a stream of record batches that never holds the
full result); writes take Arrow and either append or replace one partition's rows in a single
transaction, so re-running a partition is idempotent.
"""

from __future__ import annotations

import abc
import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar, Self

import pyarrow as pa

from moengage_pipelines.warehouse.arrow_input import ArrowData, apply_where, split_batches
from moengage_pipelines.warehouse.errors import (
    ColumnNotFoundError,
    TableNotFoundError,
    WarehouseError,
)
from moengage_pipelines.warehouse.identifiers import TableName, quote_identifier
from moengage_pipelines.warehouse.url import WarehouseURL

__all__ = ["Params", "Warehouse"]

Params = Sequence[Any] | Mapping[str, Any] | None

DEFAULT_BATCH_ROWS = 65_536

# URL kind -> the backend serving it, filled in as backends are defined.
_BACKENDS: dict[str, type[Warehouse]] = {}


class Warehouse(abc.ABC):
    """A DuckDB or PostgreSQL database seen through Arrow.

    Open one with ``Warehouse.open(url)``; use it as a context manager or call ``close()``.
    SQL parameters are positional ``$1``, ``$2``, ... on both backends (``param(n)`` writes
    one), so the same SQL text runs on either; a literal ``%`` needs no escaping.

    Attributes:
        url: The parsed URL (its ``describe()`` is safe to log).
    """

    kind: ClassVar[str]

    def __init__(self, url: WarehouseURL) -> None:
        self.url = url
        # One connection per warehouse, shared by threads: every use of it takes this lock.
        self._lock = threading.RLock()
        self._closed = False

    def __init_subclass__(cls, *, kind: str | None = None, **kwargs: Any) -> None:
        """Register a backend: ``class MyWarehouse(Warehouse, kind="duckdb")``.

        ``Warehouse.open`` then hands URLs of that kind to it. The base class never imports its
        backends; the package imports them, so every backend is registered once the package
        is.

        Raises:
            TypeError: If another backend already serves ``kind``.
        """
        super().__init_subclass__(**kwargs)
        if kind is None:
            return
        registered = _BACKENDS.get(kind)
        if registered is not None and registered is not cls:
            raise TypeError(f"{registered.__name__} already serves {kind!r} warehouse URLs")
        cls.kind = kind
        _BACKENDS[kind] = cls

    @staticmethod
    def open(
        url: str | WarehouseURL, *, schema: str | None = None, read_only: bool = False
    ) -> Warehouse:
        """Open a warehouse from a URL.

        Args:
            url: ``duckdb:///abs/path.duckdb``, ``duckdb:///:memory:``,
                ``postgresql://user[:password]@host:port/db[?schema=name]``, or a parsed
                ``WarehouseURL``.
            schema: Default schema for unqualified table names (and the Postgres
                ``search_path``); overrides ``?schema=``.
            read_only: Open a DuckDB file read-only, so several processes can read it at once.
                Ignored for PostgreSQL.

        Returns:
            A ``DuckDBWarehouse`` or ``PostgresWarehouse``.

        Raises:
            WarehouseError: If the URL is unsupported or the database cannot be opened.
        """
        if isinstance(url, WarehouseURL):
            parsed = WarehouseURL(url.kind, url.target, schema or url.schema)
        else:
            parsed = WarehouseURL.parse(url, schema)
        backend = _BACKENDS.get(parsed.kind)
        if backend is None:
            raise WarehouseError(f"no warehouse backend serves {parsed.kind!r} URLs")
        return backend(parsed, read_only=read_only)

    # -- reading ----------------------------------------------------------------------------

    @abc.abstractmethod
    def query(self, sql: str, params: Params = None) -> pa.Table:
        """Run a statement and return its whole result as an Arrow table.

        Args:
            sql: The SQL text, with ``$1``, ``$2``, ... marking parameters.
            params: Values bound to the placeholders.

        Returns:
            The result (an empty table for statements that return no rows).
        """

    @abc.abstractmethod
    def read_batches(
        self, sql: str, batch_rows: int = DEFAULT_BATCH_ROWS, params: Params = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream a query's result as record batches of at most ``batch_rows`` rows.

        The result is never materialized: DuckDB hands out Arrow batches as it produces them,
        PostgreSQL reads through a server-side cursor on its own connection.

        Args:
            sql: A query.
            batch_rows: Maximum rows per batch.
            params: Values bound to the placeholders.

        Yields:
            Non-empty record batches, all with the same schema.
        """

    def execute(self, sql: str, params: Params = None) -> None:
        """Run a statement whose result, if any, is not needed (DDL, DELETE, ...)."""
        self.query(sql, params)

    def schema_of(self, sql: str, params: Params = None) -> pa.Schema:
        """Return the Arrow schema a query would produce, without reading its rows."""
        return self.query(f"SELECT * FROM ({sql}) AS moengage_probe LIMIT 0", params).schema

    @abc.abstractmethod
    def table_exists(self, table: str | TableName) -> bool:
        """Tell whether a table or view exists (``"name"`` or ``"schema.name"``)."""

    @abc.abstractmethod
    def columns(self, table: str | TableName) -> list[str]:
        """Return a table's column names in order (empty if the table does not exist)."""

    def table_schema(self, table: str | TableName) -> pa.Schema:
        """Return the Arrow schema of a table.

        Raises:
            TableNotFoundError: If it does not exist.
        """
        name = self.require_table(table)
        return self.query(f"SELECT * FROM {name.sql} LIMIT 0").schema

    def require_table(self, table: str | TableName) -> TableName:
        """Return the parsed table name, or raise ``TableNotFoundError`` naming it."""
        name = self.table_name(table)
        if not self.table_exists(name):
            raise TableNotFoundError(str(name), self.describe())
        return name

    def count(self, table: str | TableName, where: Mapping[str, Any] | None = None) -> int:
        """Count a table's rows, optionally only those matching ``where`` (0 if it is missing)."""
        name = self.table_name(table)
        if not self.table_exists(name):
            return 0
        clause, params = self.where_clause(name, where or {})
        result = self.query(f"SELECT count(*) AS n FROM {name.sql}{clause}", params)
        return int(result.column(0)[0].as_py())

    # -- writing ----------------------------------------------------------------------------

    def replace_rows(
        self, table: str | TableName, data: ArrowData, where: Mapping[str, Any] | None = None
    ) -> int:
        """Replace the rows of one partition with ``data``, in one transaction.

        Creates the table (and its schema) from the Arrow schema if missing and adds columns
        the data has but the table lacks. Then deletes the rows matching every ``where``
        equality (``None`` matches NULL; no ``where`` empties the table) and inserts ``data``.
        A ``where`` column absent from ``data`` is filled with its value; one present must
        already hold it in every row. Re-running with the same partition therefore leaves
        exactly one copy of its rows.

        Args:
            table: ``"name"`` or ``"schema.name"``.
            data: A table, batch, reader or iterable of batches (consumed batch by batch).
            where: Column name to value, e.g. ``{"partition_date": "2025-01-02"}``.

        Returns:
            The number of rows inserted.

        Raises:
            WarehouseError: If the write fails (nothing is changed) or a row is outside the
                partition.
        """
        name = self.table_name(table)
        where = dict(where or {})
        schema, batches = split_batches(data)
        if schema is not None and where:
            schema = apply_where(_empty(schema), where, str(name)).schema
            batches = (apply_where(batch, where, str(name)) for batch in batches)
        return self._write(name, schema, batches, where, replace=True)

    def append(self, table: str | TableName, data: ArrowData) -> int:
        """Append ``data`` to a table, creating it (or missing columns) from the Arrow schema.

        Args:
            table: ``"name"`` or ``"schema.name"``.
            data: A table, batch, reader or iterable of batches (consumed batch by batch).

        Returns:
            The number of rows inserted.
        """
        name = self.table_name(table)
        schema, batches = split_batches(data)
        return self._write(name, schema, batches, {}, replace=False)

    def _write(
        self,
        table: TableName,
        schema: pa.Schema | None,
        batches: Iterator[pa.RecordBatch],
        where: Mapping[str, Any],
        *,
        replace: bool,
    ) -> int:
        """Create/extend the table, delete the ``where`` rows if ``replace``, insert, commit.

        Everything happens in one transaction: a failure (or an exception raised by the
        batches) leaves the table as it was.
        """
        with self._lock:
            try:
                with self._write_transaction(table):
                    existing = self._prepare_table(table, schema)
                    if replace:
                        clause, params = self.where_clause(table, where, existing)
                        self._run(f"DELETE FROM {table.sql}{clause}", params)
                    return 0 if schema is None else self._bulk_insert(table, schema, batches)
            except self.driver_errors as exc:
                raise WarehouseError(
                    f"writing {str(table)!r} in {self.describe()} failed: {self._error_text(exc)}"
                ) from exc

    def _prepare_table(self, table: TableName, schema: pa.Schema | None) -> list[str]:
        """Create the table or add the columns it lacks; return its column names."""
        existing = self.columns(table)
        if schema is None:
            if not existing:
                raise TableNotFoundError(str(table), self.describe())
            return existing
        missing = [name for name in schema.names if name not in existing]
        if not missing:
            return existing
        types = self._column_types(schema)
        if not existing:
            if table.schema:
                self._run(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(table.schema)}")
            columns = ", ".join(f"{quote_identifier(name)} {types[name]}" for name in missing)
            self._run(f"CREATE TABLE {table.sql} ({columns})")
            return missing
        for name in missing:
            self._run(f"ALTER TABLE {table.sql} ADD COLUMN {quote_identifier(name)} {types[name]}")
        return existing + missing

    # -- backend hooks of the write ---------------------------------------------------------

    #: The driver's exception types, turned into ``WarehouseError`` naming the table written.
    driver_errors: ClassVar[tuple[type[Exception], ...]] = ()

    @abc.abstractmethod
    def _write_transaction(self, table: TableName) -> contextlib.AbstractContextManager[object]:
        """Begin a transaction; commit when the block ends, roll back if it raises."""

    @abc.abstractmethod
    def _run(self, sql: str, params: Params = None) -> None:
        """Run a statement inside the write transaction, letting driver errors through."""

    @abc.abstractmethod
    def _column_types(self, schema: pa.Schema) -> dict[str, str]:
        """Return the SQL column type storing each field of ``schema``, by field name."""

    @abc.abstractmethod
    def _bulk_insert(
        self, table: TableName, schema: pa.Schema, batches: Iterator[pa.RecordBatch]
    ) -> int:
        """Insert the batches (columns of ``schema``) into the table; return the row count."""

    def _error_text(self, exc: BaseException) -> str:
        """Describe a driver error for a message (backends hide what must not be shown)."""
        return str(exc)

    def drop_table(self, table: str | TableName) -> None:
        """Drop a table if it exists."""
        self.execute(f"DROP TABLE IF EXISTS {self.table_name(table).sql}")

    # -- names, placeholders and filters shared by the backends --------------------------------

    @staticmethod
    def param(index: int) -> str:
        """Return the placeholder of the ``index``-th (1-based) positional parameter."""
        return f"${int(index)}"

    def table_name(self, table: str | TableName) -> TableName:
        """Parse a table name, applying the warehouse's default schema."""
        return TableName.parse(table, self.url.schema)

    def where_clause(
        self,
        table: TableName,
        where: Mapping[str, Any],
        existing: list[str] | None = None,
        first_param: int = 1,
    ) -> tuple[str, list[Any]]:
        """Build `` WHERE "a" = $1 AND "b" IS NULL`` for ``where``, checking the columns exist.

        Raises:
            ColumnNotFoundError: If a ``where`` column is not in the table.
        """
        if not where:
            return "", []
        available = existing if existing is not None else self.columns(table)
        terms: list[str] = []
        params: list[Any] = []
        for column, value in where.items():
            if column not in available:
                raise ColumnNotFoundError(column, f"table {str(table)!r}", available)
            if value is None:
                terms.append(f"{quote_identifier(column)} IS NULL")
            else:
                terms.append(
                    f"{quote_identifier(column)} = {self.param(first_param + len(params))}"
                )
                params.append(value)
        return " WHERE " + " AND ".join(terms), params

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._disconnect()

    @abc.abstractmethod
    def _disconnect(self) -> None:
        """Close the backend's connection (called once, under the lock)."""

    def describe(self) -> str:
        """Return where this warehouse points, with any password hidden."""
        return self.url.describe()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _empty(schema: pa.Schema) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([], schema=schema)


def require_rows_positive(batch_rows: int) -> int:
    """Validate a ``batch_rows`` argument."""
    if batch_rows < 1:
        raise WarehouseError(f"batch_rows must be at least 1, got {batch_rows}")
    return int(batch_rows)
