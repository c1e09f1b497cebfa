"""Checks on the column a time window filters on."""

from __future__ import annotations

import pyarrow as pa

from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.warehouse import ColumnNotFoundError

__all__ = ["require_time_column"]


def require_time_column(schema: pa.Schema, time_column: str | None, label: str) -> pa.Field:
    """Return the time column's field, checking it exists and holds timestamps or dates.

    Args:
        schema: Schema of the source's rows.
        time_column: Name given by the user (``None`` if the source has none).
        label: Names the source in error messages.

    Returns:
        The field.

    Raises:
        SourceError: If no time column was configured or it has another type.
        ColumnNotFoundError: If the column does not exist.
    """
    if not time_column:
        raise SourceError(f"a time window was given but {label} has no time_column configured")
    index = schema.get_field_index(time_column)
    if index < 0:
        raise ColumnNotFoundError(time_column, label, list(schema.names))
    field = schema.field(index)
    if not (pa.types.is_timestamp(field.type) or pa.types.is_date(field.type)):
        raise SourceError(
            f"time column {time_column!r} of {label} has type {field.type}; "
            "a time window needs a timestamp or date column"
        )
    return field
