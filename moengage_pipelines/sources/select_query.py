"""Table-or-query sources: their common base and the SQL they send (columns, window, order).

``SQLSource`` (DuckDB, PostgreSQL), ``ADBCSource`` and ``SnowflakeSource`` each read "a table
or a query" the same way: ``SELECT <columns> FROM <table or (query)> WHERE <time column in the
window> ORDER BY <key>``. What differs between them (how identifiers are quoted, how the
window's bounds are bound, how the schema is probed) stays in the source; their common
fields and description (``TableOrQuerySource``), the shape of the statement, the names used in
messages and the window's bounds are here.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence

import pyarrow as pa

from moengage_pipelines.sources.base import TimeWindow
from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.sources.projection import project_schema
from moengage_pipelines.sources.time_column import require_time_column

__all__ = [
    "TableOrQuerySource",
    "relation_label",
    "select_statement",
    "window_bounds",
    "window_condition",
]

# The alias a ``sql=`` query is selected from under (some databases require one).
_SUBQUERY_ALIAS = "moengage_source"


class TableOrQuerySource(abc.ABC):
    """What every table-or-query source holds and how it describes itself.

    Args:
        table: A table or view; exclusive with ``sql``. Subclasses check its form.
        sql: A ``SELECT`` query; exclusive with ``table``.
        time_column: Timestamp or date column that time windows filter on.
        order_by: Column(s) to sort the rows by (ascending), for a stable order.

    Raises:
        SourceError: If both or neither of ``table`` and ``sql`` are given.
    """

    def __init__(
        self,
        *,
        table: str | None = None,
        sql: str | None = None,
        time_column: str | None = None,
        order_by: str | Sequence[str] | None = None,
    ) -> None:
        self.sql = _table_or_sql(table, sql)
        self.table = table
        self.time_column = time_column
        self.order_by = _order_columns(order_by)

    @abc.abstractmethod
    def _location(self) -> str:
        """Describe the database (without secrets)."""

    def describe(self) -> str:
        """Return a one-line description, safe to log (no password)."""
        return _describe_relation(
            self._location(), self.table, self.sql, self.time_column, self.order_by
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"

    @property
    def _label(self) -> str:
        return relation_label(self.table, self.sql)

    @property
    def _relation(self) -> str:
        return _relation_sql(self.table, self.sql)

    def _parameterized_select(
        self,
        schema: pa.Schema,
        columns: Sequence[str] | None,
        window: TimeWindow | None,
        *,
        relation: str,
        label: str,
        quote: Callable[[str], str],
        placeholders: tuple[str, str],
    ) -> tuple[str, tuple[dt.datetime, dt.datetime] | None]:
        """The statement reading ``columns`` of ``schema`` in ``window``, and its parameters.

        Args:
            schema: The relation's full schema.
            columns: The columns to read (``None``: all).
            window: The time window, bound as the two parameters ``placeholders`` name.
            relation: What to select from.
            label: Names the relation in error messages.
            quote: Quotes an identifier in the database's dialect.
            placeholders: The database's parameter markers for the window's start and end.

        Raises:
            ColumnNotFoundError: If a requested, time or order column does not exist.
            SourceError: If a window is given without a usable time column.
        """
        projected = project_schema(schema, columns, label)
        where, params = None, None
        if window is not None:
            field = require_time_column(schema, self.time_column, label)
            where = window_condition(quote(field.name), *placeholders)
            params = window_bounds(field, window)
        project_schema(schema, self.order_by, label)  # names a missing column clearly
        query = select_statement(
            [quote(name) for name in projected.names],
            relation,
            where=where,
            order_by=[quote(name) for name in self.order_by],
        )
        return query, params


def _table_or_sql(table: str | None, sql: str | None) -> str | None:
    """Check that exactly one of ``table`` and ``sql`` is given; return the query, tidied.

    Returns:
        ``sql`` without surrounding white space and trailing ``;`` (it is wrapped in a
        subquery), or ``None`` when a table is read.

    Raises:
        SourceError: If both or neither are given.
    """
    if (table is None) == (sql is None):
        raise SourceError("give exactly one of table= or sql=")
    return sql.strip().rstrip(";") if sql is not None else None


def _order_columns(order_by: str | Sequence[str] | None) -> tuple[str, ...]:
    """``order_by`` as a tuple of column names (one name may be given alone)."""
    return (order_by,) if isinstance(order_by, str) else tuple(order_by or ())


def _relation_sql(table: str | None, sql: str | None) -> str:
    """What to select from: the table's (already valid) name, else the query as a subquery."""
    return table if table is not None else f"({sql}) AS {_SUBQUERY_ALIAS}"


def relation_label(table: str | None, sql: str | None) -> str:
    """Names the table or query in error messages (a long query is shortened)."""
    return f"table {table!r}" if table is not None else f"query {_short_sql(sql)}"


def _describe_relation(
    location: str,
    table: str | None,
    sql: str | None,
    time_column: str | None,
    order_by: Sequence[str],
) -> str:
    """The one-line description of a table-or-query source at ``location`` (safe to log)."""
    what = f"table {table}" if table is not None else f"query {_short_sql(sql)}"
    when = f", time column {time_column}" if time_column else ""
    order = f", ordered by {', '.join(order_by)}" if order_by else ""
    return f"{location} {what}{when}{order}"


def select_statement(
    columns: Sequence[str],
    relation: str,
    *,
    where: str | None = None,
    order_by: Sequence[str] = (),
) -> str:
    """``SELECT columns FROM relation [WHERE where] [ORDER BY order_by]``.

    Args:
        columns: Select-list items, already quoted (or ``"*"``).
        relation: What to select from: a table name or a parenthesized query with an alias.
        where: A condition, e.g. from ``window_condition``.
        order_by: Sort columns, already quoted.
    """
    query = f"SELECT {', '.join(columns)} FROM {relation}"
    if where:
        query += f" WHERE {where}"
    if order_by:
        query += " ORDER BY " + ", ".join(order_by)
    return query


def window_condition(column: str, start: str, end: str) -> str:
    """``column >= start AND column < end``: the half-open window (all three already SQL)."""
    return f"{column} >= {start} AND {column} < {end}"


def window_bounds(field: pa.Field, window: TimeWindow) -> tuple[dt.datetime, dt.datetime]:
    """The window's bounds in the form ``field`` compares with.

    Aware datetimes for a timestamp column with a zone; naive UTC wall-clock values for naive
    timestamps and dates, which hold UTC.
    """
    if pa.types.is_timestamp(field.type) and field.type.tz:
        return window.start, window.end
    return window.naive_start, window.naive_end


def _short_sql(sql: str | None, limit: int = 80) -> str:
    """The query on one line, cut to ``limit`` characters, quoted: for messages."""
    text = " ".join((sql or "").split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
