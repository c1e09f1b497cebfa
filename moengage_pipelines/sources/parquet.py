"""``ParquetSource``: one Parquet file, a folder of them, or a glob, via ``pyarrow.dataset``."""

from __future__ import annotations

import datetime as dt
import glob
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, TimeWindow
from moengage_pipelines.sources.errors import SourceError, SourceNotFoundError
from moengage_pipelines.sources.time_column import require_time_column
from moengage_pipelines.warehouse import ColumnNotFoundError

__all__ = ["ParquetSource"]

_GLOB_CHARS = frozenset("*?[")

# Read-ahead bounds how many decoded batches (and files) the scanner keeps in flight; Arrow's
# defaults (16 batches, 4 files) multiply memory for wide rows without speeding up a consumer
# that is itself bounded by the network.
_BATCH_READAHEAD = 4
_FRAGMENT_READAHEAD = 2

# pre_buffer makes Arrow fetch every selected row group of a file up front (it pays off on
# object stores); on local files it made memory grow with the file size (a 140 MB file held
# ~165 MB of Arrow memory), while without it memory stays near a few batches.
_FORMAT = ds.ParquetFileFormat(
    default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False)
)


class ParquetSource:
    """Rows of Parquet files streamed as Arrow record batches.

    Columns not requested are never read, and a time window becomes a dataset filter that
    Arrow pushes down to row-group statistics. Files whose schemas differ (a column added
    later, ``int32`` in one file and ``int64`` in another) are read under one unified schema;
    a column missing from a file reads as nulls. Folders are searched recursively and
    ``key=value`` sub-folders become columns (hive partitioning).

    Args:
        path: A ``.parquet`` file, a folder, a glob (``data/**/*.parquet``) or a list of files.
        time_column: Timestamp or date column that time windows filter on (naive = UTC).
        unify_schemas: Read every file's footer to unify schemas (``False`` trusts the first).
    """

    def __init__(
        self,
        path: str | Path | Sequence[str | Path],
        time_column: str | None = None,
        *,
        unify_schemas: bool = True,
    ) -> None:
        self.path = [str(p) for p in path] if isinstance(path, (list, tuple)) else str(path)
        self.time_column = time_column
        self.unify_schemas = unify_schemas
        self._dataset: ds.Dataset | None = None

    def describe(self) -> str:
        """Return a one-line description, safe to log."""
        shown = self.path if isinstance(self.path, str) else f"{len(self.path)} files"
        when = f", time column {self.time_column}" if self.time_column else ""
        return f"parquet {shown}{when}"

    def __repr__(self) -> str:
        return f"ParquetSource({self.describe()!r})"

    @property
    def dataset(self) -> ds.Dataset:
        """The ``pyarrow.dataset.Dataset`` over the files (built on first use)."""
        if self._dataset is None:
            self._dataset = self._build_dataset()
        return self._dataset

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the unified Arrow schema (of ``columns`` only, if given).

        Raises:
            ColumnNotFoundError: If a requested column does not exist.
        """
        schema = self.dataset.schema
        if columns is None:
            return schema
        for name in columns:
            if schema.get_field_index(name) < 0:
                raise ColumnNotFoundError(name, self.describe(), list(schema.names))
        return pa.schema([schema.field(name) for name in columns])

    def iter_batches(
        self,
        window: TimeWindow | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Stream the rows (see ``Source.iter_batches``).

        Raises:
            ColumnNotFoundError: If a requested column or the time column does not exist.
            SourceError: If a window is given without a usable time column.
        """
        if batch_rows < 1:
            raise SourceError(f"batch_rows must be at least 1, got {batch_rows}")
        # Discovered afresh for every read, so files added since the last one are included.
        dataset = self._dataset = self._build_dataset()
        names = list(self.schema(columns).names)
        expression = None
        if window is not None:
            field = require_time_column(dataset.schema, self.time_column, self.describe())
            expression = _window_filter(field, window)
        scanner = dataset.scanner(
            columns=names,
            filter=expression,
            batch_size=batch_rows,
            batch_readahead=_BATCH_READAHEAD,
            fragment_readahead=_FRAGMENT_READAHEAD,
        )
        for batch in scanner.to_batches():
            # batch_size is the scanner's maximum; slicing only guards that promise.
            for offset in range(0, batch.num_rows, batch_rows):
                yield batch.slice(offset, batch_rows)

    def _build_dataset(self) -> ds.Dataset:
        files, base = self._resolve()
        options = {"format": _FORMAT}
        if base is not None:
            dataset = ds.dataset(base, partitioning="hive", **options)
        else:
            dataset = ds.dataset(files, **options)
        if not dataset.files:
            raise SourceNotFoundError(f"no Parquet files found for {self.describe()}")
        if not self.unify_schemas or len(dataset.files) == 1:
            return dataset
        schemas = [dataset.schema]
        schemas += [fragment.physical_schema for fragment in dataset.get_fragments()]
        try:
            unified = pa.unify_schemas(schemas, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            message = f"the files of {self.describe()} have incompatible schemas: {exc}"
            raise SourceError(message) from exc
        if base is not None:
            return ds.dataset(base, schema=unified, partitioning="hive", **options)
        return ds.dataset(files, schema=unified, **options)

    def _resolve(self) -> tuple[list[str], str | None]:
        """Return ``(files, None)`` for files and globs, or ``([], folder)`` for a folder."""
        if isinstance(self.path, list):
            missing = [p for p in self.path if not Path(p).is_file()]
            if missing:
                raise SourceNotFoundError(f"Parquet file(s) not found: {missing[:5]}")
            return list(self.path), None
        if _GLOB_CHARS & set(self.path):
            files = sorted(p for p in glob.glob(self.path, recursive=True) if Path(p).is_file())
            if not files:
                raise SourceNotFoundError(f"no files match {self.path!r}")
            return files, None
        target = Path(self.path)
        if target.is_dir():
            return [], str(target)
        if target.is_file():
            return [str(target)], None
        raise SourceNotFoundError(f"Parquet path {self.path!r} does not exist")


def _window_filter(field: pa.Field, window: TimeWindow) -> ds.Expression:
    column = ds.field(field.name)
    if pa.types.is_date(field.type):
        # A date is the instant of its midnight (UTC): it is inside the window iff that
        # midnight is, i.e. iff it lies in [ceil(start), ceil(end)) counted in whole days.
        low, high = _ceil_date(window.start), _ceil_date(window.end)
        return (column >= pa.scalar(low, field.type)) & (column < pa.scalar(high, field.type))
    if field.type.tz:
        low_value, high_value = window.start, window.end
    else:
        low_value, high_value = window.naive_start, window.naive_end
    low = pa.scalar(low_value, pa.timestamp("us", tz=field.type.tz)).cast(field.type)
    high = pa.scalar(high_value, pa.timestamp("us", tz=field.type.tz)).cast(field.type)
    return (column >= low) & (column < high)


def _ceil_date(moment: dt.datetime) -> dt.date:
    day = moment.date()
    return day if moment.time() == dt.time() else day + dt.timedelta(days=1)
