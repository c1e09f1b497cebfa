"""``SnowflakeSource``: a Snowflake table or query, streamed as the connector's Arrow batches.

Rows come through ``cursor.fetch_arrow_batches()``: Snowflake writes the result in chunks, the
connector downloads a few ahead and decodes one at a time, so memory holds a handful of
chunks whatever the result's size. The time window and the order are part of the query, so
Snowflake prunes micro-partitions outside the window; the schema is read with
``cursor.describe()`` (no rows) and every batch is cast to it (see ``batch_stream``).

Unquoted Snowflake identifiers are stored in upper case: a ``time_column``, ``order_by`` or
requested column written in lower case finds its upper-case column (``ts`` finds ``TS``), as it
would in Snowflake SQL. Result columns keep the names Snowflake gives them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa

from moengage_pipelines.redaction import scrub_secrets
from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, TimeWindow
from moengage_pipelines.sources.batch_stream import conform_batches
from moengage_pipelines.sources.errors import SourceError, first_line
from moengage_pipelines.sources.extras import require_extra
from moengage_pipelines.sources.select_query import (
    TableOrQuerySource,
    select_statement,
    window_bounds,
    window_condition,
)
from moengage_pipelines.sources.snowflake_settings import SnowflakeSettings
from moengage_pipelines.sources.snowflake_types import arrow_type, snowflake_type_name
from moengage_pipelines.sources.time_column import require_time_column
from moengage_pipelines.warehouse import ColumnNotFoundError, TableNotFoundError

__all__ = ["SnowflakeSource"]

_PART = r'(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")'
_TABLE_NAME = re.compile(rf"{_PART}(?:\.{_PART}){{0,2}}")
_UNQUOTED = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
# Connector error numbers: object missing, login refused, no usable warehouse.
_NOT_FOUND = 2003
_LOGIN_REFUSED = frozenset({390100, 390101, 390102, 390144, 390318, 394304, 250003})
_NO_WAREHOUSE = 606


class SnowflakeSource(TableOrQuerySource):
    """Rows of a Snowflake table or query, streamed as Arrow record batches.

    Args:
        url: ``snowflake://user@account/database/schema?warehouse=..&role=..`` (what it
            leaves out comes from ``SNOWFLAKE_*``; see ``SnowflakeSettings``), or settings.
        table: A table or view (``name``, ``schema.name`` or ``db.schema.name``); exclusive
            with ``sql``.
        sql: A ``SELECT`` query; exclusive with ``table``.
        time_column: DATE or TIMESTAMP_NTZ/LTZ/TZ column that time windows filter on (NTZ
            values are taken to be UTC).
        order_by: Column(s) to sort by: Snowflake returns rows in no stable order without one,
            and a push ledger recognises bodies sent before only when rows come in the same
            order, so give a unique key.

    Raises:
        SourceError: If the URL, the credentials or the table name are not usable.
    """

    def __init__(
        self,
        url: str | SnowflakeSettings = "snowflake://",
        *,
        table: str | None = None,
        sql: str | None = None,
        time_column: str | None = None,
        order_by: str | Sequence[str] | None = None,
    ) -> None:
        super().__init__(
            table=table.strip() if table is not None else None, sql=sql,
            time_column=time_column, order_by=order_by,
        )
        if self.table is not None and not _TABLE_NAME.fullmatch(self.table):
            raise SourceError(f"{table!r} is not a Snowflake table name ([db.][schema.]name)")
        self.settings = (
            url if isinstance(url, SnowflakeSettings) else SnowflakeSettings.from_url(url)
        )

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the Arrow schema of the rows (of ``columns`` only), reading no rows.

        Raises:
            TableNotFoundError: If the table does not exist (or the role cannot see it).
            ColumnNotFoundError: If a requested column does not exist.
            SourceError: If Snowflake cannot be reached, refuses the login or the query.
        """
        with self._cursor() as cursor:
            schema = self._described(cursor)
        return pa.schema([_renamed(schema, name, self._label) for name in columns or schema.names])

    def iter_batches(
        self,
        window: TimeWindow | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the rows (see ``Source.iter_batches``).

        Raises:
            TableNotFoundError: If the table does not exist (or the role cannot see it).
            ColumnNotFoundError: If a requested, time or order column does not exist.
            SourceError: If the time column is not a date or timestamp, Snowflake refuses the
                login or the query, or the result's schema changes mid-stream.
        """
        with self._cursor() as cursor:
            schema = self._described(cursor)
            output = [_renamed(schema, name, self._label) for name in columns or schema.names]
            query = select_statement(
                [f"{_quote(_resolve(schema, f.name, self._label))} AS {_quote(f.name)}"
                 for f in output],
                self._relation,
                where=self._window_condition(schema, window) if window is not None else None,
                order_by=[_quote(_resolve(schema, name, self._label)) for name in self.order_by],
            )
            with self._translated():
                cursor.execute(query)
                # The connector yields each result chunk as a small ``pa.Table``.
                batches = (
                    batch for chunk in cursor.fetch_arrow_batches() for batch in chunk.to_batches()
                )
                yield from conform_batches(batches, pa.schema(output), batch_rows, self._label)

    # -- internals ----------------------------------------------------------------------------

    def _location(self) -> str:
        return self.settings.describe()  # no password or passphrase

    def _described(self, cursor: Any) -> pa.Schema:
        """The result's schema from ``cursor.describe`` (the query is compiled, not run)."""
        names = require_extra(
            "snowflake.connector.constants", extra="snowflake", what="the Snowflake source"
        ).FIELD_ID_TO_NAME
        with self._translated():
            described = cursor.describe(select_statement(["*"], self._relation) + " LIMIT 0")
        fields = []
        for column in described:
            name = snowflake_type_name(column.type_code, names)
            data_type = arrow_type(name, column)
            if data_type is None:
                raise SourceError(
                    f"column {column.name!r} of {self._label} has Snowflake type {name}, "
                    "which has no Arrow mapping here; cast it in sql="
                )
            fields.append(pa.field(column.name, data_type))
        return pa.schema(fields)

    def _window_condition(self, schema: pa.Schema, window: TimeWindow) -> str:
        if not self.time_column:
            require_time_column(schema, None, self._label)
        name = _resolve(schema, self.time_column or "", self._label)
        field = require_time_column(schema, name, self._label)
        # Literals written from datetimes (digits and separators only): no parameter binding,
        # so a "%" in the user's sql= needs no escaping. TIMESTAMP_NTZ holds UTC wall-clock
        # values; a DATE compares as its midnight.
        start, end = window_bounds(field, window)
        kind = "TIMESTAMP_TZ" if start.tzinfo else "TIMESTAMP_NTZ"
        return window_condition(
            _quote(name),
            f"'{start.isoformat(sep=' ')}'::{kind}",
            f"'{end.isoformat(sep=' ')}'::{kind}",
        )

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        connector = require_extra(
            "snowflake.connector", extra="snowflake", what="the Snowflake source"
        )
        arguments = self.settings.connect_arguments()
        with self._translated(connecting=True):
            connection = connector.connect(**arguments)
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            connection.close()

    @contextmanager
    def _translated(self, *, connecting: bool = False) -> Iterator[None]:
        """Turn connector errors into one clear ``SourceError``, secrets scrubbed."""
        errors = require_extra(
            "snowflake.connector.errors", extra="snowflake", what="the Snowflake source"
        )
        try:
            yield
        except errors.Error as exc:
            raise self._error(exc, errors, connecting) from None

    def _error(self, exc: Any, errors: Any, connecting: bool) -> SourceError:
        where = self.settings.describe()
        reason = scrub_secrets(first_line(getattr(exc, "msg", None) or str(exc)),
                               self.settings.secrets())
        number = getattr(exc, "errno", None)
        if number == _NOT_FOUND and self.table is not None:
            return TableNotFoundError(self.table, where)
        if connecting and isinstance(exc, errors.OperationalError):
            return SourceError(f"cannot reach Snowflake at {where}: {reason}")
        if connecting or number in _LOGIN_REFUSED:
            return SourceError(f"Snowflake refused the login to {where}: {reason}")
        if number == _NO_WAREHOUSE:
            return SourceError(
                f"no usable warehouse for {where}: {reason} (the warehouse is missing or the "
                "role may not use it)"
            )
        return SourceError(f"Snowflake could not read {self._label} ({where}): {reason}")


def _resolve(schema: pa.Schema, name: str, label: str) -> str:
    """The result column ``name`` means: itself, or its upper-case form if written unquoted."""
    if schema.get_field_index(name) >= 0:
        return name
    if _UNQUOTED.fullmatch(name) and schema.get_field_index(name.upper()) >= 0:
        return name.upper()
    raise ColumnNotFoundError(name, label, list(schema.names))


def _renamed(schema: pa.Schema, name: str, label: str) -> pa.Field:
    """The field of column ``name``, under the name the caller asked for."""
    return schema.field(_resolve(schema, name, label)).with_name(name)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'

