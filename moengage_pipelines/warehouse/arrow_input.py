"""Normalisation of the Arrow data handed to ``Warehouse.replace_rows`` / ``append``.

Callers may pass a table, a single batch, a ``RecordBatchReader`` or any iterable of batches;
the warehouse consumes them one batch at a time so a large write never has to be held in
memory twice.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.warehouse.errors import WarehouseError

__all__ = ["ArrowData", "apply_where", "split_batches"]

ArrowData: TypeAlias = pa.Table | pa.RecordBatch | pa.RecordBatchReader | Iterable[pa.RecordBatch]

# Rows per batch when a large table is written piecewise (bounds the size of one COPY chunk
# or one registered DuckDB view).
WRITE_CHUNK_ROWS = 65_536


def split_batches(data: ArrowData) -> tuple[pa.Schema | None, Iterator[pa.RecordBatch]]:
    """Return the schema of ``data`` (``None`` if it is an empty iterable) and its batches.

    Args:
        data: A table, batch, reader or iterable of batches.

    Returns:
        ``(schema, batches)``; the batches are produced lazily.

    Raises:
        WarehouseError: If ``data`` is not Arrow data.
    """
    if isinstance(data, pa.Table):
        return data.schema, iter(data.to_batches(max_chunksize=WRITE_CHUNK_ROWS))
    if isinstance(data, pa.RecordBatch):
        return data.schema, iter([data])
    if isinstance(data, pa.RecordBatchReader):
        return data.schema, iter(data)
    if isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Iterable):
        raise WarehouseError(
            f"expected a pyarrow Table, RecordBatch or iterable of RecordBatch, got {type(data)!r}"
        )
    batches = iter(data)
    first = next(batches, None)
    if first is None:
        return None, iter(())
    if not isinstance(first, pa.RecordBatch):
        raise WarehouseError(f"expected pyarrow RecordBatch items, got {type(first)!r}")
    return first.schema, itertools.chain([first], batches)


def apply_where(batch: pa.RecordBatch, where: Mapping[str, Any], table: str) -> pa.RecordBatch:
    """Make every row of ``batch`` belong to the partition described by ``where``.

    A ``where`` column missing from the batch is added with the constant value; a column that
    is present must already hold that value in every row. Otherwise a re-run would delete one
    partition and insert rows of another, leaving duplicates behind.

    Args:
        batch: The rows to write.
        where: Column name to value (``None`` means SQL NULL).
        table: Table name, for error messages.

    Returns:
        The batch, with constant columns appended where needed.

    Raises:
        WarehouseError: Naming the column, the expected value and an offending value.
    """
    for column, value in where.items():
        index = batch.schema.get_field_index(column)
        if index < 0:
            constant = (
                pa.nulls(batch.num_rows)
                if value is None
                else pa.array([value] * batch.num_rows, type=pa.scalar(value).type)
            )
            batch = batch.append_column(column, constant)
            continue
        values = batch.column(index)
        if value is None:
            mismatched = pc.invert(pc.is_null(values))
        else:
            try:
                scalar = pa.scalar(value).cast(values.type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise WarehouseError(
                    f"cannot compare column {column!r} ({values.type}) of the rows for "
                    f"{table!r} with the partition value {value!r}: {exc}"
                ) from exc
            mismatched = pc.fill_null(pc.not_equal(values, scalar), True)
        if pc.any(mismatched).as_py():
            bad = values.filter(mismatched)[0].as_py()
            raise WarehouseError(
                f"rows for {table!r} hold {column}={bad!r} but the partition being replaced "
                f"is {column}={value!r}; every row must belong to the partition"
            )
    return batch
