"""``DuckDBSource``: a table or query in a DuckDB database file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from moengage_pipelines.sources.sql_source import SQLSource
from moengage_pipelines.warehouse import Warehouse, WarehouseURL

__all__ = ["DuckDBSource"]


class DuckDBSource(SQLSource):
    """Rows of a DuckDB table or query, streamed as Arrow record batches.

    The file is opened read-only for the duration of each read (so several processes can read
    it at once); pass an open ``Warehouse`` instead to read through its connection.

    Args:
        database: Path to the ``.duckdb`` file, a ``duckdb:///...`` URL, or an open DuckDB
            ``Warehouse``.
        table: A table or view (``"name"`` or ``"schema.name"``); exclusive with ``sql``.
        sql: A ``SELECT`` query; exclusive with ``table``.
        time_column: Timestamp or date column that time windows filter on (naive = UTC).
        order_by: Column(s) to sort the rows by, for a stable order (see ``SQLSource``).
    """

    def __init__(
        self,
        database: str | Path | Warehouse,
        table: str | None = None,
        sql: str | None = None,
        time_column: str | None = None,
        order_by: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__(table=table, sql=sql, time_column=time_column, order_by=order_by)
        if isinstance(database, Warehouse):
            self.warehouse: Warehouse | None = database
            self.url = database.url
        else:
            self.warehouse = None
            text = str(database)
            if text.lower().startswith("duckdb:"):
                self.url = WarehouseURL.parse(text)
            else:
                self.url = WarehouseURL("duckdb", text)

    def _open(self) -> tuple[Warehouse, bool]:
        if self.warehouse is not None:
            return self.warehouse, False
        return Warehouse.open(self.url, read_only=True), True

    def _location(self) -> str:
        return self.url.describe()
