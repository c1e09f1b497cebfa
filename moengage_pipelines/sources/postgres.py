"""``PostgresSource``: a table or query in a PostgreSQL database."""

from __future__ import annotations

from collections.abc import Sequence

from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.sources.sql_source import SQLSource
from moengage_pipelines.warehouse import Warehouse, WarehouseURL

__all__ = ["PostgresSource"]


class PostgresSource(SQLSource):
    """Rows of a PostgreSQL table or query, streamed through a server-side cursor.

    A connection is opened for each read and closed when the stream ends; pass an open
    ``Warehouse`` instead to share its settings (streams still use a connection of their own).

    Args:
        dsn: ``postgresql://user[:password]@host:port/db[?schema=name]`` or an open PostgreSQL
            ``Warehouse``. The password never appears in ``describe()`` or errors.
        table: A table or view (``"name"`` or ``"schema.name"``); exclusive with ``sql``.
        sql: A ``SELECT`` query (``$1``-style parameters are not available); exclusive with
            ``table``.
        time_column: Timestamp or date column that time windows filter on (naive = UTC).
        order_by: Column(s) to sort the rows by, for a stable order (see ``SQLSource``).
    """

    def __init__(
        self,
        dsn: str | Warehouse,
        table: str | None = None,
        sql: str | None = None,
        time_column: str | None = None,
        order_by: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__(table=table, sql=sql, time_column=time_column, order_by=order_by)
        self.warehouse: Warehouse | None = dsn if isinstance(dsn, Warehouse) else None
        self.url = dsn.url if isinstance(dsn, Warehouse) else WarehouseURL.parse(dsn)
        if self.url.kind != "postgres":
            raise SourceError(f"not a PostgreSQL URL: {self.url.describe()}")

    def _open(self) -> tuple[Warehouse, bool]:
        if self.warehouse is not None:
            return self.warehouse, False
        return Warehouse.open(self.url), True

    def _location(self) -> str:
        return self.url.describe()
