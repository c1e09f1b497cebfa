"""One interface over DuckDB and PostgreSQL: Arrow in, Arrow out.

``Warehouse.open(url)`` returns a backend that reads query results as Arrow tables or as a
stream of record batches, and writes Arrow data by appending or by replacing one partition's
rows in a single transaction.
"""

from moengage_pipelines.warehouse.base import Warehouse
from moengage_pipelines.warehouse.errors import (
    ColumnNotFoundError,
    TableNotFoundError,
    WarehouseError,
)
from moengage_pipelines.warehouse.identifiers import TableName, quote_identifier
from moengage_pipelines.warehouse.url import WarehouseURL, redact_url

__all__ = [
    "ColumnNotFoundError",
    "TableName",
    "TableNotFoundError",
    "Warehouse",
    "WarehouseError",
    "WarehouseURL",
    "quote_identifier",
    "redact_url",
]
