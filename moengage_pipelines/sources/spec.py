"""``open_source``: build a source from a short text spec (CLI flags, Dagster YAML).

Accepted specs:

* ``parquet:/data/events/*.parquet``, ``parquet:/data/events/`` (folder) or a bare path ending
  in ``.parquet``, a bare folder, or a bare glob;
* ``s3://bucket/prefix/``, ``gs://bucket/**/*.parquet`` (objects, prefixes, globs; options in
  the query string, e.g. ``?endpoint_override=host:port``): Parquet on an object store;
* ``duckdb:/path/db.duckdb`` (also ``duckdb:///path/db.duckdb`` or a bare ``.duckdb`` path)
  with ``table=`` or ``sql=``;
* ``postgresql://user@host:port/db[?schema=name]`` with ``table=`` or ``sql=``;
* ``snowflake://user@account/db/schema?warehouse=..&role=..`` (or ``snowflake://`` with the
  ``SNOWFLAKE_*`` variables) with ``table=`` or ``sql=``;
* ``adbc+<driver>://...`` (``adbc+postgresql://...``, ``adbc+sqlite:///file.db``, ...) with
  ``table=`` or ``sql=``.

The Snowflake and ADBC drivers are optional extras; a missing one is named in the error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from moengage_pipelines.redaction import redact_url
from moengage_pipelines.sources.adbc import ADBCSource
from moengage_pipelines.sources.base import Source
from moengage_pipelines.sources.duckdb import DuckDBSource
from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.sources.parquet import ParquetSource
from moengage_pipelines.sources.parquet_store import is_object_store, shown_uri
from moengage_pipelines.sources.postgres import PostgresSource
from moengage_pipelines.sources.snowflake import SnowflakeSource

__all__ = ["open_source"]

_SPEC_KEYS = ("uri", "url", "path", "dsn", "database")


def open_source(
    spec: str | Path | Mapping[str, Any],
    *,
    table: str | None = None,
    sql: str | None = None,
    time_column: str | None = None,
    order_by: str | Sequence[str] | None = None,
) -> Source:
    """Build a source from a spec string (or a mapping such as a YAML block).

    Args:
        spec: The location (see the module docstring), or a mapping with one of the keys
            ``uri``/``url``/``path``/``dsn``/``database`` plus optional ``table``, ``sql``,
            ``time_column`` and ``order_by``.
        table: Table or view to read (databases only).
        sql: Query to read (databases only); exclusive with ``table``.
        time_column: Timestamp or date column that time windows filter on.
        order_by: Column(s) to sort database rows by, for a stable order (Parquet files are
            always read in file order and take none).

    Returns:
        A ``ParquetSource``, ``DuckDBSource``, ``PostgresSource``, ``SnowflakeSource`` or
        ``ADBCSource``.

    Raises:
        SourceError: If the spec is not understood or the options do not fit it.
    """
    if isinstance(spec, Mapping):
        return _from_mapping(
            spec, table=table, sql=sql, time_column=time_column, order_by=order_by
        )
    text = str(spec).strip()
    lowered = text.lower()
    if lowered.startswith("parquet:"):
        return _parquet(text[len("parquet:") :], table, sql, time_column, order_by)
    if is_object_store(text):
        return _parquet(text, table, sql, time_column, order_by)
    if lowered.startswith("snowflake:"):
        _require_relation(text, table, sql)
        return SnowflakeSource(
            text, table=table, sql=sql, time_column=time_column, order_by=order_by
        )
    if lowered.startswith("adbc+"):  # before the ".db" suffix test: adbc+sqlite:///file.db
        _require_relation(text, table, sql)
        return ADBCSource(text, table=table, sql=sql, time_column=time_column, order_by=order_by)
    if lowered.startswith(("postgresql://", "postgres://")):
        _require_relation(text, table, sql)
        return PostgresSource(
            text, table=table, sql=sql, time_column=time_column, order_by=order_by
        )
    if lowered.startswith("duckdb:") or lowered.endswith((".duckdb", ".db")):
        _require_relation(text, table, sql)
        return DuckDBSource(text, table=table, sql=sql, time_column=time_column, order_by=order_by)
    if lowered.endswith(".parquet") or Path(text).is_dir() or set("*?[") & set(text):
        return _parquet(text, table, sql, time_column, order_by)
    raise SourceError(
        f"cannot tell what kind of source {redact_url(text)!r} is; use parquet:<path or glob>, "
        "duckdb:<file>, postgresql://..., snowflake://... or adbc+<driver>://... with table= "
        "or sql="
    )


def _from_mapping(
    spec: Mapping[str, Any],
    *,
    table: str | None,
    sql: str | None,
    time_column: str | None,
    order_by: str | Sequence[str] | None,
) -> Source:
    unknown = set(spec) - {*_SPEC_KEYS, "table", "sql", "time_column", "order_by"}
    if unknown:
        raise SourceError(f"unknown source option(s) {sorted(unknown)}")
    locations = [spec[key] for key in _SPEC_KEYS if spec.get(key)]
    if len(locations) != 1:
        raise SourceError(f"a source needs exactly one of {', '.join(_SPEC_KEYS)}")
    return open_source(
        str(locations[0]),
        table=table or spec.get("table"),
        sql=sql or spec.get("sql"),
        time_column=time_column or spec.get("time_column"),
        order_by=order_by or spec.get("order_by"),
    )


def _parquet(
    path: str,
    table: str | None,
    sql: str | None,
    time_column: str | None,
    order_by: str | Sequence[str] | None = None,
) -> Source:
    shown = shown_uri(path) if is_object_store(path) else path
    if table is not None or sql is not None:
        raise SourceError(f"a Parquet source ({shown!r}) takes no table= or sql=")
    if order_by:
        raise SourceError(
            f"a Parquet source ({shown!r}) takes no order_by=: its files are read in file order, "
            "which is stable"
        )
    return ParquetSource(path, time_column=time_column)


def _require_relation(text: str, table: str | None, sql: str | None) -> None:
    if (table is None) == (sql is None):
        raise SourceError(f"{redact_url(text)!r} needs exactly one of table= or sql=")
