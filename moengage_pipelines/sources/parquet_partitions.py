"""Parquet datasets listed without reading a file, time-typed hive keys, the window filter.

A window becomes one ``pyarrow.dataset`` expression. pyarrow evaluates it against each file's
partition (skipping folders without opening them), each row group's statistics (skipping row
groups without fetching them) and finally each row. Hive partition values are read as text
(``day=2026-01-05`` is the string ``"2026-01-05"``), which a window cannot compare with; when
the time column is such a key its values are typed as dates or timestamps instead.

Files are listed and their partitions parsed from the paths alone: no footer is fetched
until a window has pruned the partitions, so an object store serves only what is read.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from moengage_pipelines.sources.base import TimeWindow

__all__ = ["list_files", "time_typed_partitions", "window_filter"]


def list_files(
    files: list[str],
    base: str | None,
    filesystem: pafs.FileSystem | None,
    file_format: ds.FileFormat,
) -> ds.FileSystemDataset:
    """The files (or every file under ``base``, hive keys parsed) with no file opened.

    Args:
        files: The files to read, when ``base`` is ``None``.
        base: A folder (``bucket/prefix``) whose files are all read, ``key=value`` sub-folders
            becoming columns; names starting with ``.`` or ``_`` are skipped.
        filesystem: The filesystem (``None``: local files).
        file_format: The Parquet format options.

    Returns:
        A dataset whose schema holds only the partition keys (types inferred from the paths).
    """
    filesystem = filesystem or pafs.LocalFileSystem()
    options = ds.FileSystemFactoryOptions(partition_base_dir=base or "")
    location: pafs.FileSelector | list[str] = files
    if base is not None:
        options.partitioning_factory = ds.HivePartitioning.discover()
        location = pafs.FileSelector(base, recursive=True)
    factory = ds.FileSystemDatasetFactory(filesystem, location, file_format, options)
    # fragments=0: the schema of the partition keys alone, from the paths.
    return factory.finish(factory.inspect(fragments=0))


def window_filter(field: pa.Field, window: TimeWindow) -> ds.Expression:
    """The expression keeping the rows of ``field`` (a timestamp or date) inside ``window``.

    Args:
        field: The time column; naive timestamps are UTC, a date is its midnight (UTC).
        window: The half-open window.

    Returns:
        ``start <= column < end`` with the bounds in the column's own type.
    """
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


def time_typed_partitions(
    dataset: ds.FileSystemDataset, base: str, time_column: str | None
) -> ds.FileSystemDataset:
    """``dataset`` with the hive key ``time_column`` typed as a date or a timestamp.

    Nothing is read or listed again: the files found are re-attached to their partitions.

    Args:
        dataset: A dataset discovered with hive partitioning under ``base``.
        base: The folder (or ``bucket/prefix``) the partition folders are under.
        time_column: The column windows filter on.

    Returns:
        The same dataset when ``time_column`` is not a text partition key whose every value
        is an ISO date (``date32``) or an ISO timestamp (``timestamp[us]``), else the retyped one.
    """
    keys = dataset.partitioning.schema if dataset.partitioning is not None else None
    if not time_column or keys is None or keys.get_field_index(time_column) < 0:
        return dataset
    if not pa.types.is_string(keys.field(time_column).type):
        return dataset
    fragments = list(dataset.get_fragments())
    values = pa.array(
        [ds.get_partition_keys(f.partition_expression).get(time_column) for f in fragments],
        pa.string(),
    )
    typed = _time_type(values)
    if typed is None:
        return dataset
    field = pa.field(time_column, typed)
    partitioning = ds.HivePartitioning(keys.set(keys.get_field_index(time_column), field))
    prefix = base.rstrip("/")
    partitions = [
        partitioning.parse(f.path[len(prefix) :] if f.path.startswith(prefix) else f.path)
        for f in fragments
    ]
    schema = dataset.schema.set(dataset.schema.get_field_index(time_column), field)
    return ds.FileSystemDataset.from_paths(
        [f.path for f in fragments],
        schema=schema,
        format=dataset.format,
        filesystem=dataset.filesystem,
        partitions=partitions,
    )


def _time_type(values: pa.Array) -> pa.DataType | None:
    for candidate in (pa.date32(), pa.timestamp("us")):
        try:
            values.cast(candidate)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return candidate
    return None


def _ceil_date(moment: dt.datetime) -> dt.date:
    day = moment.date()
    return day if moment.time() == dt.time() else day + dt.timedelta(days=1)
