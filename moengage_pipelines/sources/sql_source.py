"""Shared logic of the DuckDB and PostgreSQL sources.

A table or query is read through a ``Warehouse``, projected to the needed columns and filtered
to a time window in SQL.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence

import pyarrow as pa

from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, TimeWindow
from moengage_pipelines.sources.projection import project_schema
from moengage_pipelines.sources.select_query import (
    TableOrQuerySource,
    relation_label,
    select_statement,
)
from moengage_pipelines.warehouse import Warehouse
from moengage_pipelines.warehouse.identifiers import quote_identifier

__all__ = ["SQLSource"]


class SQLSource(TableOrQuerySource):
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

    @abc.abstractmethod
    def _open(self) -> tuple[Warehouse, bool]:
        """Return the warehouse to read and whether this source must close it afterwards."""

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the Arrow schema of the rows (of ``columns`` only, if given).

        Raises:
            TableNotFoundError: If the table does not exist.
            ColumnNotFoundError: If a requested column does not exist.
        """
        warehouse, owned = self._open()
        try:
            relation, label = self._resolved(warehouse)
            schema = warehouse.schema_of(select_statement(["*"], relation))
            return project_schema(schema, columns, label)
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
            relation, label = self._resolved(warehouse)
            schema = warehouse.schema_of(select_statement(["*"], relation))
            query, params = self._parameterized_select(
                schema, columns, window, relation=relation, label=label,
                quote=quote_identifier, placeholders=("$1", "$2"),
            )
            yield from warehouse.read_batches(query, batch_rows, list(params) if params else None)
        finally:
            if owned:
                warehouse.close()

    def _resolved(self, warehouse: Warehouse) -> tuple[str, str]:
        """Return the SQL to select from and a label for error messages."""
        if self.table is not None:
            name = warehouse.require_table(self.table)
            return name.sql, relation_label(str(name), None)
        return self._relation, self._label

