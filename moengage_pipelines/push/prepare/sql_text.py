"""SQL text building blocks of the prepare stage: checks, converted values, derived columns."""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson

from moengage_pipelines.warehouse.identifiers import quote_identifier

__all__ = ["Check", "Converted", "Derived", "inline_sql", "json_key", "query_prefix"]


@dataclass(frozen=True, slots=True)
class Check:
    """A row check: when ``condition`` (SQL) is true, the row is rejected under ``rule``.

    Attributes:
        rule: Rule name, e.g. ``"invalid_datetime"``.
        column: The source column at fault, if one.
        condition: DuckDB boolean expression over the batch's columns.
        message: Human explanation stored with the dead letter.
    """

    rule: str
    column: str | None
    condition: str
    message: str


@dataclass(frozen=True, slots=True)
class Converted:
    """A column converted for the wire.

    Attributes:
        json: SQL expression giving the value's JSON text, NULL when the value is null.
        checks: Checks that reject rows the conversion cannot represent.
    """

    json: str
    checks: list[Check] = field(default_factory=list)


def query_prefix(names: list[str]) -> str:
    """A prefix for the columns a query adds next to the source's: no source name starts with it.

    ``__moengage_`` unless a source column already starts with that; then longer.
    """
    prefix = "__moengage_"
    while any(name.startswith(prefix) for name in names):
        prefix += "_"
    return prefix


class Derived:
    """Expressions computed once per row in an inner query and referenced by name.

    A value used by a check and by the element (a parsed timestamp, a normalized platform)
    is then computed once instead of at each use.

    Args:
        prefix: Start of the names (see :func:`query_prefix`).
    """

    def __init__(self, prefix: str = "__moengage_") -> None:
        self.prefix = prefix
        self.columns: dict[str, str] = {}

    def __call__(self, sql: str) -> str:
        """Register an expression; return the quoted name of its column."""
        name = self.columns.setdefault(sql, f"{self.prefix}d{len(self.columns)}")
        return quote_identifier(name)

    def select_list(self) -> str:
        """``expr AS name, ...`` for the inner query (empty when nothing is derived)."""
        return ", ".join(f"{sql} AS {quote_identifier(name)}" for sql, name in self.columns.items())


def json_key(name: str) -> str:
    """The exact JSON text of an object key, e.g. ``"Loan Amount"`` with quotes, escaped."""
    return orjson.dumps(name).decode()


def inline_sql(sql: str) -> str:
    """An expression used in place, parenthesized (the default when nothing is derived)."""
    return f"({sql})"
