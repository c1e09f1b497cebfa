"""``ADBCSource``: a table or query in any database with an ADBC driver.

``adbc+<driver>://...`` URLs are opened through ``adbc-driver-manager``: ``<driver>`` names a
driver package (``adbc+postgresql://`` loads ``adbc_driver_postgresql``), else a driver the
manager finds by name (a manifest or ``libadbc_driver_<driver>.so``). Rows stream through
``cursor.fetch_record_batch()``, an Arrow stream the driver fills batch by batch, so memory
holds a few driver batches whatever the result's size; the time window and the order are part
of the query. Query parameters starting with ``adbc.`` become driver options; the rest of the
URL, without ``adbc+``, is the driver's ``uri`` (SQLite takes the file path).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pyarrow as pa

from moengage_pipelines.redaction import redact_url, scrub_secrets, url_secrets
from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, TimeWindow
from moengage_pipelines.sources.batch_stream import conform_batches, plain_schema
from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.sources.extras import require_extra
from moengage_pipelines.sources.time_column import require_time_column
from moengage_pipelines.warehouse import ColumnNotFoundError, TableNotFoundError

__all__ = ["ADBCSource"]

_SCHEME = re.compile(r"adbc\+([a-z][a-z0-9_]*)://", re.IGNORECASE)
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*){0,2}")
# Drivers numbering their placeholders ($1, $2); the others take "?".
_NUMBERED_PLACEHOLDERS = frozenset({"postgresql"})
_IDENTIFIER_QUOTE = {"bigquery": "`", "mysql": "`"}
_NOT_FOUND_STATUS = 3
_MISSING_TABLE = re.compile(r"no such table|does not exist|not found", re.IGNORECASE)
# Driver options whose values are credentials (adbc.snowflake.sql.auth_token, ...).
_SECRET_OPTION = re.compile(r"password|passphrase|secret|token|credential|private_key", re.I)


class ADBCSource:
    """Rows of a table or query read through an ADBC driver, as Arrow record batches.

    Args:
        url: ``adbc+<driver>://...``, e.g. ``adbc+postgresql://user@host:5432/db`` or
            ``adbc+sqlite:///path/file.db``. A password in it never appears in messages.
        table: A table or view (``name`` or ``schema.name``); exclusive with ``sql``.
        sql: A ``SELECT`` query in the database's dialect; exclusive with ``table``.
        time_column: Timestamp or date column (as the driver reports it) that time windows
            filter on; naive values are UTC. SQLite has no such type: no windows there.
        order_by: Column(s) to sort by, for a stable order (see ``SQLSource``).

    Raises:
        SourceError: If the URL or the table name are not usable.
    """

    def __init__(
        self,
        url: str,
        *,
        table: str | None = None,
        sql: str | None = None,
        time_column: str | None = None,
        order_by: str | Sequence[str] | None = None,
    ) -> None:
        match = _SCHEME.match(url.strip())
        if match is None:
            raise SourceError(f"not an adbc+<driver>:// URL: {redact_url(url)!r}")
        if (table is None) == (sql is None):
            raise SourceError("give exactly one of table= or sql=")
        if table is not None and not _TABLE_NAME.fullmatch(table.strip()):
            raise SourceError(f"{table!r} is not a table name ([schema.]name)")
        self.url = url.strip()
        self.driver = match.group(1).lower()
        self.table = table.strip() if table is not None else None
        self.sql = sql.strip().rstrip(";") if sql is not None else None
        self.time_column = time_column
        self.order_by: tuple[str, ...] = (
            (order_by,) if isinstance(order_by, str) else tuple(order_by or ())
        )
        options = parse_qsl(urlsplit(self.url).query, keep_blank_values=True)
        self._secrets = [
            *url_secrets(self.url),
            *(value for key, value in options if value and _SECRET_OPTION.search(key)),
        ]
        self._quote_char = _IDENTIFIER_QUOTE.get(self.driver, '"')

    def describe(self) -> str:
        """Return a one-line description, safe to log (no password)."""
        what = f"table {self.table}" if self.table is not None else f"query {_short(self.sql)}"
        when = f", time column {self.time_column}" if self.time_column else ""
        order = f", ordered by {', '.join(self.order_by)}" if self.order_by else ""
        return f"{self._shown_url} {what}{when}{order}"

    def __repr__(self) -> str:
        return f"ADBCSource({self.describe()!r})"

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the Arrow schema of the rows (of ``columns`` only, if given).

        Raises:
            TableNotFoundError: If the table does not exist.
            ColumnNotFoundError: If a requested column does not exist.
            SourceError: If the driver is missing or the database cannot be reached.
        """
        with self._cursor() as cursor:
            schema = self._probe(cursor)
        return _project(schema, columns, self._label)

    def iter_batches(
        self,
        window: TimeWindow | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the rows (see ``Source.iter_batches``).

        Raises:
            TableNotFoundError: If the table does not exist.
            ColumnNotFoundError: If a requested, time or order column does not exist.
            SourceError: If the time column is not a timestamp or date, the database refuses
                the query, or the result's schema changes mid-stream.
        """
        with self._cursor() as cursor:
            schema = self._probe(cursor)
            projected = _project(schema, columns, self._label)
            select = ", ".join(self._quote(name) for name in projected.names)
            query = f"SELECT {select} FROM {self._relation}"
            params: tuple[Any, ...] = ()
            if window is not None:
                field = require_time_column(schema, self.time_column, self._label)
                column = self._quote(field.name)
                first, second = self._placeholders()
                query += f" WHERE {column} >= {first} AND {column} < {second}"
                if pa.types.is_timestamp(field.type) and field.type.tz:
                    params = (window.start, window.end)
                else:  # naive timestamps and dates hold UTC wall-clock values
                    params = (window.naive_start, window.naive_end)
            if self.order_by:
                _project(schema, self.order_by, self._label)  # names a missing column clearly
                query += " ORDER BY " + ", ".join(self._quote(c) for c in self.order_by)
            with self._translated():
                cursor.execute(query, params or None)
                reader = cursor.fetch_record_batch()
                output = plain_schema(reader.schema)
                yield from conform_batches(reader, output, batch_rows, self._label)

    # -- internals ----------------------------------------------------------------------------

    @property
    def _label(self) -> str:
        return f"table {self.table!r}" if self.table is not None else f"query {_short(self.sql)}"

    @property
    def _relation(self) -> str:
        return self.table if self.table is not None else f"({self.sql}) AS moengage_source"

    @property
    def _shown_url(self) -> str:
        return scrub_secrets(redact_url(self.url), self._secrets)

    def _quote(self, name: str) -> str:
        q = self._quote_char
        return q + name.replace(q, q + q) + q

    def _placeholders(self) -> tuple[str, str]:
        return ("$1", "$2") if self.driver in _NUMBERED_PLACEHOLDERS else ("?", "?")

    def _probe(self, cursor: Any) -> pa.Schema:
        """The result's schema: from the driver without running the query when it can."""
        errors = _driver_manager_errors()
        query = f"SELECT * FROM {self._relation}"
        with self._translated():
            try:
                return plain_schema(cursor.adbc_execute_schema(query))
            except errors.NotSupportedError:
                pass
            # Drivers without ExecuteSchema (SQLite) report types from the rows they read.
            cursor.execute(f"{query} LIMIT 1")
            return plain_schema(cursor.fetch_record_batch().schema)

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        dbapi = require_extra(
            "adbc_driver_manager.dbapi", extra="adbc", what="an adbc+ source"
        )
        driver, options = self._connect_options()
        with self._translated(connecting=True):
            connection = dbapi.connect(driver=driver, db_kwargs=options)
        try:
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            connection.close()

    def _connect_options(self) -> tuple[str, dict[str, str]]:
        """The driver to load and its database options (``uri`` and ``adbc.*``)."""
        parts = urlsplit(self.url[len("adbc+") :])
        query = parse_qsl(parts.query, keep_blank_values=True)
        options = {key: value for key, value in query if key.startswith("adbc.")}
        rest = urlencode([(key, value) for key, value in query if not key.startswith("adbc.")])
        if self.driver == "sqlite":
            uri = (parts.netloc + parts.path) or ":memory:"
        else:
            uri = urlunsplit((parts.scheme, parts.netloc, parts.path, rest, parts.fragment))
        return _driver_location(self.driver), {"uri": uri, **options}

    @contextmanager
    def _translated(self, *, connecting: bool = False) -> Iterator[None]:
        """Turn driver errors into one clear ``SourceError``, the password scrubbed."""
        errors = _driver_manager_errors()
        try:
            yield
        except (errors.Error, OSError) as exc:
            raise self._error(exc, connecting) from None

    def _error(self, exc: Exception, connecting: bool) -> SourceError:
        where = self._shown_url
        reason = scrub_secrets(_first_line(str(exc)), self._secrets)
        if connecting and "Could not load" in str(exc):
            package = f"adbc-driver-{self.driver.replace('_', '-')}"
            return SourceError(
                f"the ADBC driver {self.driver!r} is not installed: pip install {package} "
                "(or put a driver manifest on ADBC_DRIVER_PATH)"
            )
        if connecting:
            return SourceError(f"cannot connect to {where}: {reason}")
        missing = getattr(exc, "status_code", None) == _NOT_FOUND_STATUS or bool(
            _MISSING_TABLE.search(str(exc))
        )
        if self.table is not None and missing and "column" not in str(exc).lower():
            return TableNotFoundError(self.table, where)
        if isinstance(exc, OSError):  # the driver found a value its first batch did not type
            return SourceError(f"the schema of {self._label} changed mid-stream: {reason}")
        return SourceError(f"{where} could not read {self._label}: {reason}")


def _driver_location(driver: str) -> str:
    """The shared library of the ``adbc_driver_<driver>`` package, else the bare name."""
    try:
        module = importlib.import_module(f"adbc_driver_{driver}")
    except ImportError:
        return driver  # the driver manager searches manifests and library paths by name
    locate = getattr(module, "_driver_path", None)
    return str(locate()) if callable(locate) else driver


def _driver_manager_errors() -> Any:
    return require_extra("adbc_driver_manager", extra="adbc", what="an adbc+ source")


def _project(schema: pa.Schema, columns: Sequence[str] | None, label: str) -> pa.Schema:
    if columns is None:
        return schema
    for name in columns:
        if schema.get_field_index(name) < 0:
            raise ColumnNotFoundError(name, label, list(schema.names))
    return pa.schema([schema.field(name) for name in columns])


def _first_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else "no details"


def _short(sql: str | None, limit: int = 80) -> str:
    text = " ".join((sql or "").split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
