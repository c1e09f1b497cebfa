"""The columns a read asks for, checked against a source's schema."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from moengage_pipelines.warehouse import ColumnNotFoundError

__all__ = ["project_schema"]


def project_schema(schema: pa.Schema, columns: Sequence[str] | None, label: str) -> pa.Schema:
    """Return ``schema`` narrowed to ``columns``, in their order (all of it for ``None``).

    Args:
        schema: Schema of the source's rows.
        columns: The requested columns, or ``None`` for every one.
        label: Names the source in error messages.

    Raises:
        ColumnNotFoundError: If a requested column does not exist (the message lists the
            columns that do).
    """
    if columns is None:
        return schema
    for name in columns:
        if schema.get_field_index(name) < 0:
            raise ColumnNotFoundError(name, label, list(schema.names))
    return pa.schema([schema.field(name) for name in columns])
