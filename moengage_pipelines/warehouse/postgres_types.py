"""Type mapping between Arrow and PostgreSQL, both ways.

Writing: ``postgres_type`` picks the column type for ``CREATE TABLE``/``ADD COLUMN`` and
``encode_copy_csv`` turns a record batch into ``COPY ... FROM STDIN (FORMAT csv)`` bytes using
Arrow's C++ CSV writer; only columns CSV cannot express (binary, lists, structs, maps,
durations) are rewritten first.

Reading: ``RowDecoder`` turns rows fetched by psycopg into record batches with a schema fixed
from the cursor description, so every batch of one query has the same schema.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import orjson
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from psycopg.postgres import types as pg_types
from psycopg.types.string import TextLoader

__all__ = [
    "RowDecoder",
    "encode_copy_csv",
    "postgres_type",
    "use_text_loaders",
]

_SCALAR_TYPES: list[tuple[str, pa.DataType]] = [
    ("bool", pa.bool_()),
    ("int2", pa.int16()),
    ("int4", pa.int32()),
    ("int8", pa.int64()),
    ("oid", pa.int64()),
    ("float4", pa.float32()),
    ("float8", pa.float64()),
    ("text", pa.string()),
    ("varchar", pa.string()),
    ("bpchar", pa.string()),
    ("name", pa.string()),
    ("json", pa.string()),
    ("jsonb", pa.string()),
    ("uuid", pa.string()),
    ("date", pa.date32()),
    ("time", pa.time64("us")),
    ("timestamp", pa.timestamp("us")),
    ("timestamptz", pa.timestamp("us", tz="UTC")),
    ("interval", pa.duration("us")),
    ("bytea", pa.binary()),
]

# Types psycopg would turn into Python objects we want as text (JSON documents stay JSON text:
# their shape varies row to row, which a fixed Arrow struct type cannot hold).
_TEXT_LOADED = ("json", "jsonb", "uuid", "timetz", "money", "inet", "cidr", "macaddr", "xml")


def _build_oid_map() -> dict[int, pa.DataType]:
    mapping: dict[int, pa.DataType] = {}
    for name, arrow_type in _SCALAR_TYPES:
        info = pg_types.get(name)
        if info is None:
            continue
        mapping[info.oid] = arrow_type
        if info.array_oid:
            mapping[info.array_oid] = pa.list_(arrow_type)
    return mapping


_OID_TO_ARROW = _build_oid_map()
_NUMERIC_OID = pg_types.get("numeric").oid  # type: ignore[union-attr]
_NUMERIC_ARRAY_OID = pg_types.get("numeric").array_oid  # type: ignore[union-attr]


def use_text_loaders(connection: psycopg.Connection[Any]) -> None:
    """Make ``connection`` return JSON, UUID and other exotic values as strings."""
    for name in _TEXT_LOADED:
        if pg_types.get(name) is not None:
            connection.adapters.register_loader(name, TextLoader)


class RowDecoder:
    """Converts psycopg rows of one query into Arrow record batches.

    Args:
        description: ``cursor.description`` of the query.
    """

    def __init__(self, description: Sequence[psycopg.Column]) -> None:
        fields = []
        self._stringify: list[bool] = []
        for column in description:
            arrow_type = _arrow_type(column)
            self._stringify.append(arrow_type is None)
            fields.append(pa.field(column.name, arrow_type or pa.string()))
        self.schema = pa.schema(fields)

    def to_batch(self, rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
        """Convert fetched rows to a record batch with ``self.schema``."""
        if not rows:
            return pa.RecordBatch.from_pylist([], schema=self.schema)
        columns = list(zip(*rows, strict=True))
        arrays = []
        for values, field, stringify in zip(columns, self.schema, self._stringify, strict=True):
            if stringify:
                values = tuple(v if v is None or isinstance(v, str) else str(v) for v in values)
            elif pa.types.is_floating(field.type):
                # Unconstrained NUMERIC arrives as Decimal; Arrow will not convert it implicitly.
                values = tuple(v if v is None or isinstance(v, float) else float(v) for v in values)
            arrays.append(pa.array(values, type=field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=self.schema)


def _arrow_type(column: psycopg.Column) -> pa.DataType | None:
    oid = column.type_code
    if oid == _NUMERIC_OID:
        precision, scale = column.precision, column.scale
        if precision is not None and precision <= 38:
            return pa.decimal128(precision, scale or 0)
        if precision is not None and precision <= 76:
            return pa.decimal256(precision, scale or 0)
        return pa.float64()  # unconstrained (e.g. sum(bigint)): no fixed scale to keep
    if oid == _NUMERIC_ARRAY_OID:
        return pa.list_(pa.float64())
    return _OID_TO_ARROW.get(oid)


# -- writing ---------------------------------------------------------------------------------


def postgres_type(arrow_type: pa.DataType) -> str:
    """Return the PostgreSQL column type used to store an Arrow type.

    Args:
        arrow_type: The Arrow type of a column.

    Returns:
        A type name for ``CREATE TABLE``: timestamps with a zone become ``timestamptz``,
        lists of scalars become arrays, structs, maps and nested lists become ``jsonb``.
    """
    t = arrow_type
    if isinstance(t, pa.ExtensionType):
        return "jsonb" if t.extension_name == "arrow.json" else postgres_type(t.storage_type)
    if pa.types.is_dictionary(t):
        return postgres_type(t.value_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "numeric(20,0)"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "real"
    if pa.types.is_float64(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_duration(t):
        return "interval"
    if _is_binary(t):
        return "bytea"
    if _is_list(t):
        value_type = t.value_type
        if _is_list(value_type) or pa.types.is_nested(value_type) or _is_binary(value_type):
            return "jsonb"
        return postgres_type(value_type) + "[]"
    if pa.types.is_nested(t):
        return "jsonb"
    return "text"


def encode_copy_csv(batch: pa.RecordBatch) -> bytes:
    """Encode a batch as headerless CSV for ``COPY ... FROM STDIN (FORMAT csv)``.

    Strings are always quoted by Arrow and NULLs are left empty and unquoted, which is exactly
    how PostgreSQL's CSV format tells an empty string from NULL.

    Args:
        batch: The rows, in the column order of the ``COPY`` column list.

    Returns:
        The CSV bytes.
    """
    arrays = [_copy_ready(column) for column in batch.columns]
    table = pa.Table.from_arrays(arrays, names=batch.schema.names)
    sink = io.BytesIO()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    return sink.getvalue()


def _copy_ready(array: pa.Array) -> pa.Array:
    t = array.type
    if isinstance(t, pa.ExtensionType):
        return _copy_ready(array.storage)
    if pa.types.is_dictionary(t):
        return _copy_ready(array.dictionary_decode())
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        return array.cast(pa.string())
    if pa.types.is_null(t):
        return array.cast(pa.string())
    if pa.types.is_duration(t):
        micros = pc.cast(array.cast(pa.duration("us")), pa.int64())
        return pc.binary_join_element_wise(pc.cast(micros, pa.string()), " microseconds", "")
    if _is_binary(t):
        return pa.array(
            [None if v is None else "\\x" + v.hex() for v in array.to_pylist()], pa.string()
        )
    if postgres_type(t) == "jsonb":
        return pa.array(
            [None if v is None else _json(v) for v in array.to_pylist(maps_as_pydicts="lossy")],
            pa.string(),
        )
    if _is_list(t):
        return pa.array(
            [None if v is None else _array_literal(v) for v in array.to_pylist()], pa.string()
        )
    return array


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _array_literal(values: list[Any]) -> str:
    """Render a Python list as a PostgreSQL array literal (every element quoted)."""
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif hasattr(value, "isoformat"):
            text = value.isoformat()
        else:
            text = str(value)
        parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def _is_list(t: pa.DataType) -> bool:
    return (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    )


def _is_binary(t: pa.DataType) -> bool:
    return (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    )
