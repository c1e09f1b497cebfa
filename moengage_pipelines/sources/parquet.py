"""``ParquetSource``: one Parquet file, a folder of them, or a glob, streamed batch by batch.

``pyarrow.dataset`` finds the files, unifies their schemas, reads hive partition folders and
picks the row groups a time window can touch (from their statistics). The rows themselves are
read file by file with ``pyarrow.parquet.ParquetFile.iter_batches``, which decodes a batch only
when the consumer asks for the next one: a dataset scanner reads ahead on background threads
without bound when the consumer is slow (a rate-limited push always is), and its Arrow memory
grew with the size of the input.

Object stores (``s3://``, ``gs://``) are read the same way through pyarrow's filesystems (see
``parquet_store``). A window prunes before anything is read: hive partition folders outside it
are never opened when the time column is the partition key (``day=2026-01-05/``), and only the
footers of the files left and their row groups inside the window are fetched.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from moengage_pipelines.sources.base import DEFAULT_BATCH_ROWS, TimeWindow
from moengage_pipelines.sources.errors import SourceError, SourceNotFoundError
from moengage_pipelines.sources.parquet_partitions import (
    list_files,
    time_typed_partitions,
    window_filter,
)
from moengage_pipelines.sources.parquet_store import is_object_store, open_location, shown_uri
from moengage_pipelines.sources.projection import project_schema
from moengage_pipelines.sources.time_column import require_time_column

__all__ = ["ParquetSource"]

_GLOB_CHARS = frozenset("*?[")

# Rows are read with ``ParquetFile(pre_buffer=False)`` (see ``_fragment_batches``); the
# dataset, used here to find files, schemas and row groups, is configured the same way for
# whoever scans ``ParquetSource.dataset`` directly: pre_buffer fetches every selected row
# group of a file up front (it pays off on object stores), which on local files made memory
# grow with the file size.
# Up to this many files, the footers read to find the schema are kept for the read itself (one
# GET fewer per object); a dataset of more files reads each footer again as it goes.
_CACHED_FOOTERS = 64
_FORMAT = ds.ParquetFileFormat(
    default_fragment_scan_options=ds.ParquetFragmentScanOptions(pre_buffer=False)
)


class ParquetSource:
    """Rows of Parquet files streamed as Arrow record batches.

    Columns not requested are never read. A time window skips the row groups whose
    statistics show no row inside it, and filters the rows of the others batch by batch.
    Files whose schemas differ (a column added later, ``int32`` in one file and ``int64`` in
    another) are read under one unified schema; a column missing from a file reads as nulls.
    Folders are searched recursively and ``key=value`` sub-folders become columns (hive
    partitioning); when the time column is such a key, its ISO dates or timestamps are typed
    so, and a window skips the folders outside it without opening them.

    Memory stays bounded by about one batch and one row group's compressed column chunks,
    however slowly the batches are consumed and however large the input is.

    Args:
        path: A ``.parquet`` file, a folder, a glob (``data/**/*.parquet``), a list of files, or
            the same on an object store (``s3://bucket/events/``, ``gs://bucket/*.parquet``,
            options in the query string, see ``parquet_store``).
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
        if isinstance(self.path, str):
            shown = shown_uri(self.path) if is_object_store(self.path) else self.path
        else:
            shown = f"{len(self.path)} files"
        when = f", time column {self.time_column}" if self.time_column else ""
        return f"parquet {shown}{when}"

    def __repr__(self) -> str:
        return f"ParquetSource({self.describe()!r})"

    @property
    def dataset(self) -> ds.Dataset:
        """The ``pyarrow.dataset.Dataset`` over the files (built on first use)."""
        if self._dataset is None:
            self._dataset, _ = self._build_dataset(None)
        return self._dataset

    def schema(self, columns: Sequence[str] | None = None) -> pa.Schema:
        """Return the unified Arrow schema (of ``columns`` only, if given).

        Raises:
            ColumnNotFoundError: If a requested column does not exist.
        """
        return project_schema(self.dataset.schema, columns, self.describe())

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
        # Discovered afresh for every read, so files added since the last one are included;
        # with a window, only of the partitions inside it.
        dataset, expression = self._build_dataset(window)
        self._dataset = dataset
        output = self.schema(columns)
        if expression is None:
            for fragment in dataset.get_fragments():
                yield from _fragment_batches(fragment, output, None, batch_rows)
            return
        field = dataset.schema.field(self.time_column)
        # The time column is read for the filter even when it is not asked for.
        read = output if field.name in output.names else output.append(field)
        kept = (
            batch.filter(expression).select(output.names)
            for fragment in dataset.get_fragments(filter=expression)
            for batch in _fragment_batches(
                fragment.subset(expression, schema=dataset.schema), read, expression, batch_rows
            )
        )
        yield from _coalesce(kept, batch_rows)

    def _build_dataset(
        self, window: TimeWindow | None
    ) -> tuple[ds.Dataset, ds.Expression | None]:
        """The dataset to read (of the partitions a window keeps) and the window's filter."""
        with _readable(self.describe()):
            files, base, filesystem = self._resolve()
            listed = list_files(files, base, filesystem, _FORMAT)
            if base is not None:
                listed = time_typed_partitions(listed, base, self.time_column)
            fragments = list(listed.get_fragments())
            if not fragments:
                raise SourceNotFoundError(f"no Parquet files found for {self.describe()}")
            keys = listed.schema
            expression = None
            if window is not None and keys.get_field_index(self.time_column or "") >= 0:
                # The time column is a partition key: the folders outside the window are
                # dropped before any file is opened.
                field = require_time_column(keys, self.time_column, self.describe())
                expression = window_filter(field, window)
                fragments = list(listed.get_fragments(filter=expression))
            schema = self._file_schema(fragments or list(listed.get_fragments())[:1])
            for key in keys:
                if schema.get_field_index(key.name) < 0:
                    schema = schema.append(key)
            if window is not None and expression is None:
                field = require_time_column(schema, self.time_column, self.describe())
                expression = window_filter(field, window)
            if len(fragments) <= _CACHED_FOOTERS:
                # These fragments hold the footers just read: the read below fetches no
                # footer again.
                pruned = ds.FileSystemDataset(fragments, schema, _FORMAT, listed.filesystem)
            else:
                # Fresh fragments: each footer is fetched again when its file is read, so
                # that the footers of many files are not all held for the whole read.
                pruned = ds.FileSystemDataset.from_paths(
                    [fragment.path for fragment in fragments],
                    schema=schema,
                    format=_FORMAT,
                    filesystem=listed.filesystem,
                    partitions=[fragment.partition_expression for fragment in fragments],
                )
            return pruned, expression

    def _file_schema(self, fragments: list[ds.Fragment]) -> pa.Schema:
        """The schema stored in the files (the first file's, or all unified)."""
        first = fragments[0]
        # Loads the footer once; the read reuses it (an object store's GET is dear).
        first.ensure_complete_metadata()
        if not self.unify_schemas:
            return first.physical_schema
        return self._unified(first.physical_schema, fragments[1:])

    def _unified(self, schema: pa.Schema, fragments: list[ds.Fragment]) -> pa.Schema:
        """One schema for every file read; names the first file that cannot join it."""
        for fragment in fragments:
            # Loads the footer once; the read below reuses it (an object store's GET is dear).
            fragment.ensure_complete_metadata()
            try:
                schema = pa.unify_schemas(
                    [schema, fragment.physical_schema], promote_options="permissive"
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                reason = str(exc).strip().splitlines()[0]
                raise SourceError(
                    f"the files of {self.describe()} have incompatible schemas: "
                    f"{fragment.path} does not fit the files before it ({reason})"
                ) from None
        return schema

    def _resolve(self) -> tuple[list[str], str | None, pafs.FileSystem | None]:
        """Return ``(files, None, fs)`` for files and globs, ``([], folder, fs)`` for a folder."""
        if isinstance(self.path, str) and is_object_store(self.path):
            location = open_location(self.path)
            return location.files, location.prefix, location.filesystem
        files, base = self._resolve_local()
        return files, base, None

    def _resolve_local(self) -> tuple[list[str], str | None]:
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


@contextmanager
def _readable(what: str) -> Iterator[None]:
    """Turn Arrow's errors on an empty, truncated or corrupt file into a ``SourceError``."""
    try:
        yield
    except (pa.ArrowException, OSError) as exc:
        if isinstance(exc, SourceError):
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SourceError(f"cannot read {what}: {reason}") from None


def _fragment_batches(
    fragment: ds.ParquetFileFragment,
    schema: pa.Schema,
    expression: ds.Expression | None,
    batch_rows: int,
) -> Iterator[pa.RecordBatch]:
    """The rows of one file (of its row groups a window can touch) in ``schema``."""
    row_groups = None
    if expression is not None:
        # ``fragment`` was narrowed to the row groups whose statistics may match.
        row_groups = [row_group.id for row_group in fragment.row_groups]
        if not row_groups:
            return
    partition = ds.get_partition_keys(fragment.partition_expression) or {}
    # On an object store every read is a request: a row group's column chunks are fetched
    # together (pre_buffer coalesces them), one row group at a time so that memory holds one.
    remote = not isinstance(fragment.filesystem, pafs.LocalFileSystem)
    with (
        _readable(f"Parquet file {fragment.path}"),
        fragment.filesystem.open_input_file(fragment.path) as handle,
    ):
        reader = pq.ParquetFile(
            handle,
            # The footer read when the dataset was built, so that it is fetched only once.
            metadata=fragment.metadata,
            pre_buffer=remote,
            arrow_extensions_enabled=False,
        )
        present = set(reader.schema_arrow.names)
        stored = [name for name in schema.names if name in present]
        if stored and remote:
            every = range(reader.metadata.num_row_groups) if row_groups is None else row_groups
            batches: Iterable[pa.RecordBatch] = (
                batch
                for group in every
                for batch in reader.iter_batches(
                    batch_size=batch_rows, row_groups=[group], columns=stored, use_threads=False
                )
            )
        elif stored:
            # One decoding thread: the consumer (serialization) keeps the other cores busy,
            # and Arrow's thread pool kept more freed memory resident for the same speed.
            batches = reader.iter_batches(
                batch_size=batch_rows, row_groups=row_groups, columns=stored, use_threads=False
            )
        else:
            batches = _row_counts(reader.metadata, row_groups, batch_rows)
        for batch in batches:
            yield _conform(batch, schema, partition)


def _row_counts(
    metadata: pq.FileMetaData, row_groups: list[int] | None, batch_rows: int
) -> Iterator[pa.RecordBatch]:
    """Column-less batches with the file's row counts (when no stored column is read)."""
    for index in range(metadata.num_row_groups) if row_groups is None else row_groups:
        rows = metadata.row_group(index).num_rows
        for start in range(0, rows, batch_rows):
            size = min(batch_rows, rows - start)
            yield pa.RecordBatch.from_struct_array(pa.nulls(size, pa.struct([])))


def _conform(batch: pa.RecordBatch, schema: pa.Schema, partition: dict) -> pa.RecordBatch:
    """The batch in ``schema``: columns cast to the unified types, the missing ones filled."""
    if batch.schema.equals(schema):
        return batch
    rows = batch.num_rows
    columns = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index >= 0:
            column = batch.column(index)
            if column.type != field.type:
                column = column.cast(field.type)
        elif field.name in partition:
            column = pa.repeat(pa.scalar(partition[field.name], field.type), rows)
        else:
            column = pa.nulls(rows, field.type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _coalesce(batches: Iterable[pa.RecordBatch], batch_rows: int) -> Iterator[pa.RecordBatch]:
    """Merge the small batches a selective window leaves into batches of ``batch_rows``.

    Every batch costs the consumer a fixed overhead (one query, one body boundary); merging
    keeps that per row as low as without a window. At most ``batch_rows`` rows are held.
    """
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        if not pending and batch.num_rows >= batch_rows // 2:
            yield batch
            continue
        pending.append(batch)
        held += batch.num_rows
        if held >= batch_rows // 2:
            merged = pa.concat_batches(pending)
            pending, held = [], 0
            for offset in range(0, merged.num_rows, batch_rows):
                yield merged.slice(offset, batch_rows)
    if pending:
        yield pa.concat_batches(pending)
