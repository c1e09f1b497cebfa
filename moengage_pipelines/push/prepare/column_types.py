"""Arrow type families and the SQL that renders typed values as the wire expects them."""

from __future__ import annotations

from typing import Literal

import pyarrow as pa

from moengage_pipelines.warehouse.identifiers import quote_identifier

__all__ = [
    "CATALOG_DATETIME_FORMAT",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "Target",
    "TypeFamily",
    "finite_or_null",
    "infer_catalog_type",
    "nested_non_finite",
    "nested_value",
    "quoted_text",
    "timestamp_utc",
    "type_family",
]

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
CATALOG_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%gZ"
DATE_FORMAT = "%Y-%m-%d"

TypeFamily = Literal[
    "string",
    "binary",
    "integer",
    "float",
    "decimal",
    "bool",
    "timestamp",
    "date",
    "time",
    "nested",
    "null",
    "other",
]

Target = Literal[
    # user/event attribute types
    "auto",
    "string",
    "number",
    "bool",
    "datetime",
    "date",
    # catalog attribute types
    "catalog_string",
    "catalog_bool",
    "catalog_double",
    "catalog_datetime",
    "catalog_geopoint",
]



def type_family(data_type: pa.DataType) -> TypeFamily:
    """Classify an Arrow type into the families conversion distinguishes."""
    if pa.types.is_dictionary(data_type):
        return type_family(data_type.value_type)
    checks: list[tuple[TypeFamily, bool]] = [
        (
            "string",
            pa.types.is_string(data_type)
            or pa.types.is_large_string(data_type)
            or pa.types.is_string_view(data_type),
        ),
        (
            "binary",
            pa.types.is_binary(data_type)
            or pa.types.is_large_binary(data_type)
            or pa.types.is_binary_view(data_type)
            or pa.types.is_fixed_size_binary(data_type),
        ),
        ("integer", pa.types.is_integer(data_type)),
        ("float", pa.types.is_floating(data_type)),
        ("decimal", pa.types.is_decimal(data_type)),
        ("bool", pa.types.is_boolean(data_type)),
        ("timestamp", pa.types.is_timestamp(data_type)),
        ("date", pa.types.is_date(data_type)),
        ("time", pa.types.is_time(data_type) or pa.types.is_duration(data_type)),
        (
            "nested",
            pa.types.is_list(data_type)
            or pa.types.is_large_list(data_type)
            or pa.types.is_fixed_size_list(data_type)
            or pa.types.is_list_view(data_type)
            or pa.types.is_struct(data_type)
            or pa.types.is_map(data_type),
        ),
        ("null", pa.types.is_null(data_type)),
    ]
    for family, matches in checks:
        if matches:
            return family
    return "other"


def quoted_text(text_sql: str) -> str:
    """A JSON string of a SQL text that needs no escaping (formatted timestamps)."""
    return f"('\"' || {text_sql} || '\"')"


def timestamp_utc(expr: str, family: TypeFamily) -> str:
    """A timestamp whose wall-clock reading is UTC.

    Zoned timestamps are DuckDB TIMESTAMPTZ, formatted in the session zone (UTC); naive ones
    are already UTC by convention and dates are their midnight, so both stay naive.
    """
    if family == "date":
        return f"CAST({expr} AS TIMESTAMP)"
    return expr


def nested_value(
    expr: str, data_type: pa.DataType, *, null_non_finite: bool = False, depth: int = 0
) -> str:
    """A DuckDB value whose ``to_json`` is right: timestamps become ISO strings, bytes text.

    Args:
        expr: The value's SQL.
        data_type: Its Arrow type.
        null_non_finite: Turn NaN and infinite floats into nulls (``to_json`` would write
            ``NaN``, which is not JSON).
        depth: Nesting depth, naming the lambda variables apart.
    """
    if pa.types.is_dictionary(data_type):
        return nested_value(
            expr, data_type.value_type, null_non_finite=null_non_finite, depth=depth
        )
    family = type_family(data_type)
    if family == "timestamp":
        return f"strftime({timestamp_utc(expr, family)}, '{DATETIME_FORMAT}')"
    if family == "date":
        return f"strftime({expr}, '{DATE_FORMAT}')"
    if family == "binary":
        return f"try(decode({expr}))"
    if family == "float" and null_non_finite:
        return finite_or_null(expr)
    if family in {"time", "other"}:
        return f"CAST({expr} AS VARCHAR)"
    if family != "nested":
        return expr
    inner_depth = depth + 1
    if pa.types.is_struct(data_type):
        parts = []
        for child in data_type:
            child_value = nested_value(
                f"{expr}.{quote_identifier(child.name)}", child.type,
                null_non_finite=null_non_finite, depth=inner_depth,
            )
            parts.append(f"{quote_identifier(child.name)} := {child_value}")
        if not parts:
            return expr
        return f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({', '.join(parts)}) END"
    v = f"v{depth}"
    if pa.types.is_map(data_type):
        item = nested_value(
            f"{v}.value", data_type.item_type, null_non_finite=null_non_finite, depth=inner_depth
        )
        if item == f"{v}.value":
            return expr
        return (
            f"map_from_entries(list_transform(map_entries({expr}), "
            f"lambda {v}: struct_pack(k := {v}.key, v := {item})))"
        )
    inner = nested_value(v, data_type.value_type, null_non_finite=null_non_finite,
                         depth=inner_depth)
    return expr if inner == v else f"list_transform({expr}, lambda {v}: {inner})"


def nested_non_finite(expr: str, data_type: pa.DataType, depth: int = 0) -> str | None:
    """A condition true when a nested value holds NaN or infinity (JSON cannot carry them).

    None when the type holds no float at all.
    """
    if pa.types.is_dictionary(data_type):
        return nested_non_finite(expr, data_type.value_type, depth)
    family = type_family(data_type)
    if family == "float":
        return f"coalesce(NOT isfinite({expr}), false)"
    if family != "nested":
        return None
    if pa.types.is_struct(data_type):
        parts = [
            part
            for child in data_type
            if (
                part := nested_non_finite(
                    f"{expr}.{quote_identifier(child.name)}", child.type, depth + 1
                )
            )
        ]
        return " OR ".join(parts) if parts else None
    v = f"v{depth}"
    if pa.types.is_map(data_type):
        items, item_type = f"map_values({expr})", data_type.item_type
    else:
        items, item_type = expr, data_type.value_type
    inner = nested_non_finite(v, item_type, depth + 1)
    if inner is None:
        return None
    return f"coalesce(list_bool_or(list_transform({items}, lambda {v}: {inner})), false)"


def finite_or_null(expr: str) -> str:
    """A float with NaN and infinities turned into NULL (a missing value)."""
    return f"CASE WHEN isfinite({expr}) THEN {expr} END"


def infer_catalog_type(data_type: pa.DataType) -> str:
    """The catalog attribute type a column maps to when the mapping does not say."""
    family = type_family(data_type)
    if family in {"integer", "float", "decimal"}:
        return "double"
    if family == "bool":
        return "bool"
    if family in {"timestamp", "date"}:
        return "datetime"
    return "string"
