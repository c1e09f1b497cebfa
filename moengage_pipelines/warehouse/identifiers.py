"""Quoting of SQL identifiers and literals, and parsing of (schema-qualified) table names.

Identifiers are always quoted, so table and column names can hold any character (including
reserved words such as ``column`` or ``row``) without opening a path to SQL injection.
"""

from __future__ import annotations

from dataclasses import dataclass

from moengage_pipelines.warehouse.errors import WarehouseError

__all__ = ["TableName", "quote_identifier", "quote_literal"]


def quote_identifier(name: str) -> str:
    """Quote one identifier for DuckDB and PostgreSQL (both follow the SQL standard).

    Args:
        name: A table, schema or column name, unquoted.

    Returns:
        The name wrapped in double quotes, inner double quotes doubled.

    Raises:
        WarehouseError: If the name is empty or contains a NUL character.
    """
    if not name or "\x00" in name:
        raise WarehouseError(f"invalid SQL identifier {name!r}")
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Quote a string literal for DuckDB and PostgreSQL, for statements that take no parameters.

    Args:
        text: The value, unquoted.

    Returns:
        The value wrapped in single quotes, inner single quotes doubled.

    Raises:
        WarehouseError: If the value contains a NUL character.
    """
    if "\x00" in text:
        raise WarehouseError(f"invalid SQL string literal {text!r}")
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class TableName:
    """A table name with an optional schema.

    Attributes:
        name: The table name.
        schema: The schema, or ``None`` to use the warehouse's default schema.
    """

    name: str
    schema: str | None = None

    @classmethod
    def parse(cls, table: str | TableName, default_schema: str | None = None) -> TableName:
        """Read ``"table"`` or ``"schema.table"``.

        A name that itself contains a dot can be passed as a ``TableName`` instead.

        Args:
            table: The name, or an existing ``TableName`` (returned with the default schema
                filled in).
            default_schema: Schema used when the name has none.

        Returns:
            The parsed name.

        Raises:
            WarehouseError: If the name is empty or has more than one dot.
        """
        if isinstance(table, TableName):
            return table if table.schema else cls(table.name, default_schema)
        parts = table.split(".")
        if len(parts) == 1 and parts[0]:
            return cls(parts[0], default_schema)
        if len(parts) == 2 and all(parts):
            return cls(parts[1], parts[0])
        raise WarehouseError(f"invalid table name {table!r}; use 'table' or 'schema.table'")

    @property
    def sql(self) -> str:
        """The quoted, schema-qualified name for use in SQL text."""
        if self.schema:
            return f"{quote_identifier(self.schema)}.{quote_identifier(self.name)}"
        return quote_identifier(self.name)

    def __str__(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name
