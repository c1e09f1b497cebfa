"""One interface over DuckDB and PostgreSQL: Arrow in, Arrow out.

``Warehouse.open(url)`` returns a backend that reads query results as Arrow tables or as a
stream of record batches, and writes Arrow data by appending or by replacing one partition's
rows in a single transaction. ``ensure_layout`` gives a table its declared primary key and
indexes; ``replace_view`` (re)creates a view.

The backends are imported here: defining one registers it for its URL kind, which is how
``Warehouse.open`` finds it without the base class knowing its backends.
"""

from moengage_pipelines.warehouse.base import Warehouse
from moengage_pipelines.warehouse.duckdb_warehouse import DuckDBWarehouse
from moengage_pipelines.warehouse.errors import (
    ColumnNotFoundError,
    TableNotFoundError,
    WarehouseError,
)
from moengage_pipelines.warehouse.identifiers import TableName, quote_identifier, quote_literal
from moengage_pipelines.warehouse.layout import (
    TableLayout,
    drop_view,
    ensure_layout,
    primary_key,
    replace_view,
)
from moengage_pipelines.warehouse.postgres_warehouse import PostgresWarehouse
from moengage_pipelines.warehouse.url import WarehouseURL

__all__ = [
    "ColumnNotFoundError",
    "DuckDBWarehouse",
    "PostgresWarehouse",
    "TableLayout",
    "TableName",
    "TableNotFoundError",
    "Warehouse",
    "WarehouseError",
    "WarehouseURL",
    "drop_view",
    "ensure_layout",
    "primary_key",
    "quote_identifier",
    "quote_literal",
    "replace_view",
]
