"""``ArrowTableSource``: rows already in memory as an Arrow table, read as a ``Source``.

Used for what an upstream Dagster asset loads (a DataFrame is turned into a ``pa.Table``
first). A time window filters the rows with the same expression a Parquet read uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa

from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, TimeWindow
from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.sources.parquet_partitions import window_filter
from moengage_pipelines.sources.projection import project_schema
from moengage_pipelines.sources.time_column import require_time_column

__all__ = ["ArrowTableSource"]


class ArrowTableSource:
    """Rows of an Arrow table in memory, in table order, optionally limited to a time window.

    Args:
        table: The rows.
        time_column: Timestamp or date column that windows filter on (naive = UTC).
        name: Names the table in descriptions and errors.
    """

    def __init__(self, table: pa.Table, time_column: str | None = None, *, name: str) -> None:
        self.table = table
        self.time_column = time_column
        self.name = name

    def describe(self) -> str:
        """Return a one-line description, safe to log."""
        when = f", time column {self.time_column}" if self.time_column else ""
        return f"{self.name} ({self.table.num_rows:,} rows in memory{when})"

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the table's schema (of ``columns`` only, if given).

        Raises:
            ColumnNotFoundError: If a requested column does not exist.
        """
        return project_schema(self.table.schema, columns, self.describe())

    def iter_batches(
        self,
        window: TimeWindow | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the rows (see ``Source.iter_batches``)."""
        if batch_rows < 1:
            raise SourceError(f"batch_rows must be at least 1, got {batch_rows}")
        output = self.schema(columns)
        rows = self.table
        if window is not None:
            field = require_time_column(rows.schema, self.time_column, self.describe())
            rows = rows.filter(window_filter(field, window))
        for batch in rows.select(output.names).to_batches(max_chunksize=batch_rows):
            if batch.num_rows:
                yield batch
