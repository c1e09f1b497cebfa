"""Driver record batches brought to one schema and to at most ``batch_rows`` rows each.

Warehouse drivers hand out batches of their own size, and some of them pick a column's Arrow
type per batch (Snowflake sends the narrowest integer that fits each chunk) or per value
(SQLite has no column types at all). The push needs one schema from the first batch to the
last, so every batch is cast to the schema announced before the first one; a batch that
cannot be cast means the schema changed mid-stream, which stops the read with an error naming
the column rather than sending rows under a schema the checks never saw.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

from moengage_pipelines.sources.errors import SourceError

__all__ = ["SchemaChangedError", "conform_batches", "plain_schema", "plain_type"]


class SchemaChangedError(SourceError):
    """A batch of a stream came with columns or types that differ from the first ones."""


def plain_type(data_type: pa.DataType) -> pa.DataType:
    """The storage type of an extension type (JSON, opaque database types), else the type."""
    while isinstance(data_type, pa.BaseExtensionType):
        data_type = data_type.storage_type
    return data_type


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """``schema`` with extension types replaced by their storage types (metadata dropped)."""
    return pa.schema([pa.field(f.name, plain_type(f.type), f.nullable) for f in schema])


def conform_batches(
    batches: Iterable[pa.RecordBatch], schema: pa.Schema, batch_rows: int, label: str
) -> Iterator[pa.RecordBatch]:
    """Yield the rows of ``batches`` in ``schema``, in slices of at most ``batch_rows`` rows.

    Args:
        batches: Batches as the driver hands them out.
        schema: The schema every yielded batch has (extension types already unwrapped).
        batch_rows: Maximum rows per yielded batch.
        label: Names the source in error messages.

    Yields:
        Non-empty batches in ``schema``; large driver batches are sliced without copying.

    Raises:
        SchemaChangedError: If a batch has other columns, or a column that cannot be cast
            to its announced type without losing values.
    """
    for number, batch in enumerate(batches, start=1):
        if not batch.num_rows:
            continue
        batch = _conform(batch, schema, number, label)
        for offset in range(0, batch.num_rows, batch_rows):
            yield batch.slice(offset, batch_rows)


def _conform(
    batch: pa.RecordBatch, schema: pa.Schema, number: int, label: str
) -> pa.RecordBatch:
    if batch.schema.names != schema.names:
        raise SchemaChangedError(
            f"the columns of {label} changed in batch {number}: expected "
            f"{schema.names}, got {batch.schema.names}"
        )
    if batch.schema.equals(schema, check_metadata=False):
        return batch
    columns = []
    for field, column in zip(schema, batch.columns, strict=True):
        if isinstance(column.type, pa.BaseExtensionType):
            column = column.storage
        if column.type != field.type:
            try:
                column = column.cast(field.type, safe=True)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise SchemaChangedError(
                    f"column {field.name!r} of {label} changed type in batch {number}: "
                    f"expected {field.type}, got {column.type} ({exc})"
                ) from None
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=schema)
