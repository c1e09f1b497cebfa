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
from moengage_pipelines.sources.errors import SourceError, first_line
from moengage_pipelines.sources.extras import require_extra
from moengage_pipelines.sources.projection import project_schema
from moengage_pipelines.sources.select_query import (
    TableOrQuerySource,
    select_statement,
)
from moengage_pipelines.warehouse import TableNotFoundError

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


class ADBCSource(TableOrQuerySource):
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
        super().__init__(
            table=table.strip() if table is not None else None, sql=sql,
            time_column=time_column, order_by=order_by,
        )
        if self.table is not None and not _TABLE_NAME.fullmatch(self.table):
            raise SourceError(f"{table!r} is not a table name ([schema.]name)")
        self.url = url.strip()
        self.driver = match.group(1).lower()
        options = parse_qsl(urlsplit(self.url).query, keep_blank_values=True)
        self._secrets = [
            *url_secrets(self.url),
            *(value for key, value in options if value and _SECRET_OPTION.search(key)),
        ]
        self._quote_char = _IDENTIFIER_QUOTE.get(self.driver, '"')

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the Arrow schema of the rows (of ``columns`` only, if given).

        Raises:
            TableNotFoundError: If the table does not exist.
            ColumnNotFoundError: If a requested column does not exist.
            SourceError: If the driver is missing or the database cannot be reached.
        """
        with self._cursor() as cursor:
            schema = self._probe(cursor)
        return project_schema(schema, columns, self._label)

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
            query, params = self._parameterized_select(
                schema, columns, window, relation=self._relation, label=self._label,
                quote=self._quote, placeholders=self._placeholders(),
            )
            with self._translated():
                cursor.execute(query, params)
                reader = cursor.fetch_record_batch()
                output = plain_schema(reader.schema)
                yield from conform_batches(reader, output, batch_rows, self._label)

    # -- internals ----------------------------------------------------------------------------

    def _location(self) -> str:
        return self._shown_url

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
        query = select_statement(["*"], self._relation)
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
        reason = scrub_secrets(first_line(str(exc)), self._secrets)
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

