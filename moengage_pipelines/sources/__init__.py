"""Inputs of a push: streams of Arrow record batches, optionally limited to a time window.

``ParquetSource``, ``DuckDBSource``, ``PostgresSource``, ``SnowflakeSource``, ``ADBCSource``
and ``ArrowTableSource`` (rows in memory) implement the ``Source`` protocol;
``open_source`` builds one from a short spec such as ``parquet:/data/*.parquet``.
"""

from moengage_pipelines.sources.adbc import ADBCSource
from moengage_pipelines.sources.arrow_table import ArrowTableSource
from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, Source, TimeWindow, as_utc
from moengage_pipelines.sources.duckdb import DuckDBSource
from moengage_pipelines.sources.errors import SourceError, SourceNotFoundError
from moengage_pipelines.sources.extras import MissingExtraError
from moengage_pipelines.sources.parquet import ParquetSource
from moengage_pipelines.sources.postgres import PostgresSource
from moengage_pipelines.sources.snowflake import SnowflakeSource
from moengage_pipelines.sources.spec import open_source

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "ADBCSource",
    "ArrowTableSource",
    "DuckDBSource",
    "MissingExtraError",
    "ParquetSource",
    "PostgresSource",
    "SnowflakeSource",
    "Source",
    "SourceError",
    "SourceNotFoundError",
    "TimeWindow",
    "as_utc",
    "open_source",
]
