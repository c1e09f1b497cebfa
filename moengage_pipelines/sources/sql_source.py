"""Shared logic of the DuckDB and PostgreSQL sources.

A table or query is read through a ``Warehouse``, projected to the needed columns and filtered
to a time window in SQL.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, TimeWindow
from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.sources.time_column import require_time_column
from moengage_pipelines.warehouse import ColumnNotFoundError, Warehouse
from moengage_pipelines.warehouse.identifiers import quote_identifier

__all__ = ["SQLSource"]


class SQLSource(abc.ABC):
    """A table or a query in a warehouse, streamed as record batches.

    Args:
        table: A table or view (``"name"`` or ``"schema.name"``); exclusive with ``sql``.
        sql: A ``SELECT`` query; exclusive with ``table``.
        time_column: Timestamp or date column that time windows filter on.
        order_by: Column(s) to sort the rows by (ascending). Without it rows come in the
            database's scan order, which PostgreSQL does not keep stable (updates, vacuum,
            synchronized scans); a push ledger recognises bodies sent before only when the
            rows come in the same order, so give a unique key here.
    """

    def __init__(
        self,
        *,
        table: str | None = None,
        sql: str | None = None,
        time_column: str | None = None,
        order_by: str | Sequence[str] | None = None,
    ) -> None:
        if (table is None) == (sql is None):
            raise SourceError("give exactly one of table= or sql=")
        self.table = table
        self.sql = sql.strip().rstrip(";") if sql is not None else None
        self.time_column = time_column
        self.order_by: tuple[str, ...] = (
            (order_by,) if isinstance(order_by, str) else tuple(order_by or ())
        )

    @abc.abstractmethod
    def _open(self) -> tuple[Warehouse, bool]:
        """Return the warehouse to read and whether this source must close it afterwards."""

    @abc.abstractmethod
    def _location(self) -> str:
        """Describe the database (without secrets)."""

    def describe(self) -> str:
        """Return a one-line description, safe to log."""
        what = f"table {self.table}" if self.table is not None else f"query {_short(self.sql)}"
        when = f", time column {self.time_column}" if self.time_column else ""
        order = f", ordered by {', '.join(self.order_by)}" if self.order_by else ""
        return f"{self._location()} {what}{when}{order}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the Arrow schema of the rows (of ``columns`` only, if given).

        Raises:
            TableNotFoundError: If the table does not exist.
            ColumnNotFoundError: If a requested column does not exist.
        """
        warehouse, owned = self._open()
        try:
            relation, label = self._relation(warehouse)
            schema = warehouse.schema_of(f"SELECT * FROM {relation}")
            return _project(schema, columns, label)
        finally:
            if owned:
                warehouse.close()

    def iter_batches(
        self,
        window: TimeWindow | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the rows (see ``Source.iter_batches``).

        Raises:
            TableNotFoundError: If the table does not exist.
            ColumnNotFoundError: If a requested column or the time column does not exist.
            SourceError: If a window is given without a usable time column.
        """
        warehouse, owned = self._open()
        try:
            relation, label = self._relation(warehouse)
            schema = warehouse.schema_of(f"SELECT * FROM {relation}")
            projected = _project(schema, columns, label)
            select = ", ".join(quote_identifier(name) for name in projected.names)
            query = f"SELECT {select} FROM {relation}"
            params: list[Any] = []
            if window is not None:
                field = require_time_column(schema, self.time_column, label)
                column = quote_identifier(field.name)
                query += f" WHERE {column} >= $1 AND {column} < $2"
                if pa.types.is_timestamp(field.type) and field.type.tz:
                    params = [window.start, window.end]
                else:
                    # Naive timestamps (and dates) hold UTC wall-clock values.
                    params = [window.naive_start, window.naive_end]
            if self.order_by:
                _project(schema, self.order_by, label)  # names a missing column clearly
                query += " ORDER BY " + ", ".join(quote_identifier(c) for c in self.order_by)
            yield from warehouse.read_batches(query, batch_rows, params or None)
        finally:
            if owned:
                warehouse.close()

    def _relation(self, warehouse: Warehouse) -> tuple[str, str]:
        """Return the SQL to select from and a label for error messages."""
        if self.table is not None:
            name = warehouse.require_table(self.table)
            return name.sql, f"table {str(name)!r}"
        return f"({self.sql}) AS moengage_source", f"query {_short(self.sql)}"


def _project(schema: pa.Schema, columns: Sequence[str] | None, label: str) -> pa.Schema:
    if columns is None:
        return schema
    for name in columns:
        if schema.get_field_index(name) < 0:
            raise ColumnNotFoundError(name, label, list(schema.names))
    return pa.schema([schema.field(name) for name in columns])


def _short(sql: str | None, limit: int = 80) -> str:
    text = " ".join((sql or "").split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
