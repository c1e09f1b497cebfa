"""Snowflake column types as the Arrow types a Snowflake source yields.

The connector's Arrow batches carry the narrowest integer that fits each chunk and its own
time zone names; the source casts every batch to the type listed here, so a push sees one
schema whatever the data in a chunk. Semi-structured values (VARIANT, OBJECT, ARRAY) arrive as
JSON text, as the connector returns them.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

__all__ = ["arrow_type", "snowflake_type_name"]

_JSON_TEXT = ("VARIANT", "OBJECT", "ARRAY", "MAP", "GEOGRAPHY", "GEOMETRY")


def snowflake_type_name(type_code: int, field_id_to_name: dict[int, str]) -> str:
    """The Snowflake type name of a result column's ``type_code`` (``"UNKNOWN"`` if new)."""
    return field_id_to_name.get(type_code) or "UNKNOWN"


def arrow_type(name: str, column: Any) -> pa.DataType | None:
    """The Arrow type of one described result column, or None to keep the connector's own.

    Args:
        name: The Snowflake type name (``FIXED``, ``TIMESTAMP_NTZ``, ...).
        column: The connector's ``ResultMetadata`` (``precision`` and ``scale`` are read).

    Returns:
        NUMBER/DECIMAL with scale 0 as ``int64``, with a scale as ``decimal128(p, s)``;
        FLOAT as ``float64``; TIMESTAMP_NTZ as naive ``timestamp[ns]`` (UTC wall clock);
        TIMESTAMP_LTZ and TIMESTAMP_TZ as ``timestamp[ns, UTC]``; DATE as ``date32``;
        VARIANT, OBJECT and ARRAY as JSON ``string``; None for types without a fixed mapping.
    """
    if name == "FIXED":
        scale = column.scale or 0
        if scale == 0:
            return pa.int64()
        return pa.decimal128(column.precision or 38, scale)
    if name == "REAL":
        return pa.float64()
    if name == "TEXT" or name in _JSON_TEXT:
        return pa.string()
    if name == "BINARY":
        return pa.binary()
    if name == "BOOLEAN":
        return pa.bool_()
    if name == "DATE":
        return pa.date32()
    if name in ("TIMESTAMP_NTZ", "TIMESTAMP"):
        return pa.timestamp("ns")
    if name in ("TIMESTAMP_LTZ", "TIMESTAMP_TZ"):
        return pa.timestamp("ns", tz="UTC")
    return None
