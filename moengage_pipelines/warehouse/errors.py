"""Errors raised by the warehouse layer and the sources built on it.

Messages name the table and column involved and never contain a password.
"""

from __future__ import annotations

from moengage_pipelines.errors import MoEngageError

__all__ = ["ColumnNotFoundError", "TableNotFoundError", "WarehouseError"]


class WarehouseError(MoEngageError):
    """A warehouse could not be opened, read or written."""


class TableNotFoundError(WarehouseError, LookupError):
    """A table (or view) named by the caller does not exist.

    Attributes:
        table: The table name as the caller gave it.
    """

    def __init__(self, table: str, where: str) -> None:
        self.table = table
        super().__init__(f"table {table!r} does not exist in {where}")


class ColumnNotFoundError(WarehouseError, LookupError):
    """A column named by the caller is missing from a table or query result.

    Attributes:
        column: The missing column.
        relation: The table or query that was searched.
        available: The columns that do exist.
    """

    def __init__(self, column: str, relation: str, available: list[str]) -> None:
        self.column = column
        self.relation = relation
        self.available = available
        shown = ", ".join(available[:50]) + (", ..." if len(available) > 50 else "")
        super().__init__(f"column {column!r} not found in {relation}; columns are: {shown}")
