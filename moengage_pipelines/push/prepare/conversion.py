"""Column -> JSON value conversion, written as DuckDB SQL over an Arrow batch.

Every mapped value is turned into a SQL expression yielding its JSON text (or NULL when the
value is null), plus the row checks the conversion needs (a string that is not a datetime, a
NaN, bytes that are not UTF-8). Serialization stitches the JSON texts into elements, and
validation turns the checks into a rule per row; both run in one vectorized query per batch.

Wire formats (MoEngage's documented ones):

* user and event datetimes: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; dates ``YYYY-MM-DD``;
* catalog datetimes: ISO 8601 with milliseconds, ``YYYY-MM-DDTHH:MM:SS.mmmZ``;
* timestamps without a time zone are taken as UTC;
* numbers as JSON numbers (floats in shortest round-trip form, decimals exactly: their digits
  with trailing fractional zeros dropped), never NaN or infinity. A NaN or infinite float is a
  missing value (``non_finite: null``, the default: pandas' reading of NaN) or rejects its
  row (``non_finite: reject``).
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from moengage_pipelines.push.mapping import MappingError, NonFinite
from moengage_pipelines.push.prepare.column_types import (
    CATALOG_DATETIME_FORMAT,
    DATE_FORMAT,
    DATETIME_FORMAT,
    Target,
    TypeFamily,
    finite_or_null,
    nested_non_finite,
    nested_value,
    quoted_text,
    timestamp_utc,
    type_family,
)
from moengage_pipelines.push.prepare.sql_text import Check, Converted, inline_sql
from moengage_pipelines.warehouse.identifiers import quote_identifier

__all__ = ["convert", "exact_decimal", "parse_timestamp_sql"]


def _non_finite_check(expr: str, column: str) -> Check:
    return Check(
        "non_finite_number",
        column,
        f"coalesce(NOT isfinite({expr}), false)",
        f"{column} is NaN or infinite, which JSON cannot carry",
    )


def _invalid_utf8_check(expr: str, column: str) -> Check:
    return Check(
        "invalid_utf8",
        column,
        f"({expr} IS NOT NULL AND try(decode({expr})) IS NULL)",
        f"{column} holds bytes that are not valid UTF-8",
    )


def _unsupported(column: str, family: TypeFamily, target: str) -> MappingError:
    return MappingError(f"column {column!r} of type {family} cannot be sent as {target}")


def _float(x: str, column: str, non_finite: NonFinite) -> tuple[str, list[Check]]:
    """A float column's value: NaN and infinities made null, or the check rejecting them."""
    if non_finite == "null":
        return finite_or_null(x), []
    return x, [_non_finite_check(x, column)]


def exact_decimal(x: str, data_type: pa.DataType) -> str:
    """A decimal's exact JSON number: ``12.500000000`` -> ``12.5``, ``100.00`` -> ``100``.

    ``to_json`` writes some decimals through a double and others with every digit of the
    scale; the decimal's own text, with trailing fractional zeros dropped, is exact either way.
    """
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    text = f"CAST({x} AS VARCHAR)"
    if getattr(data_type, "scale", 0) > 0:
        return f"rtrim(rtrim({text}, '0'), '.')"
    return text


def convert(
    column: str,
    data_type: pa.DataType,
    target: Target,
    derive: Callable[[str], str] = inline_sql,
    non_finite: NonFinite = "null",
) -> Converted:
    """Build the JSON SQL and the checks for one mapped column.

    Args:
        column: Source column name.
        data_type: Its Arrow type.
        target: ``auto`` keeps the column's type; the other targets convert (and reject rows
            whose value does not convert); ``catalog_*`` use the catalog's wire formats.
        derive: Registers a value used more than once (see ``Derived``) and returns a
            reference to it; by default the expression is repeated.
        non_finite: ``null`` turns NaN and infinite floats into null values; ``reject`` adds
            the check rejecting their rows (``non_finite_number``).

    Raises:
        MappingError: If the column's type cannot be sent as the target at all.
    """
    x = quote_identifier(column)
    family = type_family(data_type)
    if family == "float":
        x, float_checks = _float(x, column, non_finite)
        converted = _convert(x, column, data_type, family, target, derive, non_finite)
        return Converted(converted.json, float_checks + converted.checks)
    return _convert(x, column, data_type, family, target, derive, non_finite)


def _convert(
    x: str,
    column: str,
    data_type: pa.DataType,
    family: TypeFamily,
    target: Target,
    derive: Callable[[str], str],
    non_finite: NonFinite,
) -> Converted:
    if target in {"catalog_string", "catalog_bool", "catalog_double", "catalog_datetime"}:
        target = target.removeprefix("catalog_")  # type: ignore[assignment]
        if target == "double":
            target = "number"
        if target == "datetime":
            return _datetime(x, column, family, CATALOG_DATETIME_FORMAT, derive)
    if target == "catalog_geopoint":
        return _geopoint(x, column, family)
    if target == "auto":
        return _auto(x, column, data_type, family, non_finite)
    if target == "string":
        return _string(x, column, data_type, family, non_finite)
    if target == "number":
        return _number(x, column, data_type, family, derive)
    if target == "bool":
        return _bool(x, column, family, derive)
    if target == "datetime":
        return _datetime(x, column, family, DATETIME_FORMAT, derive)
    if target == "date":
        return _datetime(x, column, family, DATE_FORMAT, derive)
    raise MappingError(f"unknown attribute type {target!r} for column {column!r}")


def _auto(
    x: str, column: str, data_type: pa.DataType, family: TypeFamily, non_finite: NonFinite
) -> Converted:
    if family == "string":
        return Converted(f"CAST(to_json({x}) AS VARCHAR)")
    if family == "binary":
        return Converted(
            f"CAST(to_json(try(decode({x}))) AS VARCHAR)", [_invalid_utf8_check(x, column)]
        )
    if family == "integer":
        return Converted(f"CAST({x} AS VARCHAR)")
    if family == "float":
        # NaN and infinities are already null or checked (see ``convert``).
        return Converted(f"CAST(to_json({x}) AS VARCHAR)")
    if family == "bool":
        return Converted(f"CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END")
    if family == "decimal":
        return Converted(exact_decimal(x, data_type))
    if family == "timestamp":
        return Converted(quoted_text(f"strftime({timestamp_utc(x, family)}, '{DATETIME_FORMAT}')"))
    if family == "date":
        return Converted(quoted_text(f"strftime({x}, '{DATE_FORMAT}')"))
    if family == "null":
        return Converted("CAST(NULL AS VARCHAR)")
    if family == "nested":
        checks = []
        holds_non_finite = nested_non_finite(x, data_type)
        if holds_non_finite and non_finite == "reject":
            checks.append(
                Check(
                    "non_finite_number",
                    column,
                    holds_non_finite,
                    f"{column} holds NaN or infinity, which JSON cannot carry",
                )
            )
        # With ``non_finite: null`` a NaN inside the value becomes a null element or field.
        value = nested_value(x, data_type, null_non_finite=non_finite == "null")
        return Converted(f"CAST(to_json({value}) AS VARCHAR)", checks)
    # time of day, durations and anything else: their text form.
    return Converted(f"CAST(to_json(CAST({x} AS VARCHAR)) AS VARCHAR)")


def _string(
    x: str, column: str, data_type: pa.DataType, family: TypeFamily, non_finite: NonFinite
) -> Converted:
    if family in {"binary", "timestamp", "date"}:
        return _auto(x, column, data_type, family, non_finite)
    if family == "bool":
        return Converted(f"CASE WHEN {x} THEN '\"true\"' WHEN NOT {x} THEN '\"false\"' END")
    if family == "nested":
        raise _unsupported(column, family, "string")
    return Converted(f"CAST(to_json(CAST({x} AS VARCHAR)) AS VARCHAR)")


def _number(
    x: str, column: str, data_type: pa.DataType, family: TypeFamily,
    derive: Callable[[str], str],
) -> Converted:
    if family == "integer":
        return Converted(f"CAST(to_json({x}) AS VARCHAR)")
    if family == "decimal":
        return Converted(exact_decimal(x, data_type))
    if family == "float":
        return Converted(f"CAST(to_json({x}) AS VARCHAR)")
    if family == "bool":
        return Converted(f"CASE WHEN {x} THEN '1' WHEN NOT {x} THEN '0' END")
    if family == "string":
        parsed = derive(f"TRY_CAST(trim({x}) AS DOUBLE)")
        return Converted(
            f"CAST(to_json({parsed}) AS VARCHAR)",
            [
                Check(
                    "invalid_type",
                    column,
                    f"({x} IS NOT NULL AND coalesce(NOT isfinite({parsed}), true))",
                    f"{column} is not a finite number",
                )
            ],
        )
    raise _unsupported(column, family, "a number")


def _bool(x: str, column: str, family: TypeFamily, derive: Callable[[str], str]) -> Converted:
    if family == "bool":
        return _auto(x, column, pa.bool_(), family, "reject")
    if family in {"integer", "float", "decimal"}:
        return Converted(f"CASE WHEN {x} <> 0 THEN 'true' WHEN {x} = 0 THEN 'false' END")
    if family == "string":
        parsed = derive(f"TRY_CAST(lower(trim({x})) AS BOOLEAN)")
        return Converted(
            f"CASE WHEN {parsed} THEN 'true' WHEN NOT {parsed} THEN 'false' END",
            [
                Check(
                    "invalid_type",
                    column,
                    f"({x} IS NOT NULL AND {parsed} IS NULL)",
                    f"{column} is not a boolean (true/false)",
                )
            ],
        )
    raise _unsupported(column, family, "a boolean")


def parse_timestamp_sql(
    x: str, column: str, family: TypeFamily, derive: Callable[[str], str] = inline_sql
) -> tuple[str, list[Check]]:
    """A TIMESTAMPTZ expression for a timestamp, date or ISO 8601 string column.

    Strings are parsed by DuckDB (``2024-03-01``, ``2024-03-01T10:00:00Z``,
    ``2024-03-01 10:00:00+05:30``...); a value that does not parse fails ``invalid_datetime``.
    """
    if family in {"timestamp", "date"}:
        return timestamp_utc(x, family), []
    if family == "string":
        parsed = derive(f"TRY_CAST(trim({x}) AS TIMESTAMPTZ)")
        return parsed, [
            Check(
                "invalid_datetime",
                column,
                f"({x} IS NOT NULL AND {parsed} IS NULL)",
                f"{column} is not an ISO 8601 date or datetime",
            )
        ]
    raise _unsupported(column, family, "a datetime")


def _datetime(
    x: str, column: str, family: TypeFamily, fmt: str, derive: Callable[[str], str]
) -> Converted:
    timestamp, checks = parse_timestamp_sql(x, column, family, derive)
    if family == "date" and fmt == DATE_FORMAT:
        timestamp = x
    return Converted(quoted_text(f"strftime({timestamp}, '{fmt}')"), checks)


def _geopoint(x: str, column: str, family: TypeFamily) -> Converted:
    if family != "string":
        raise _unsupported(column, family, "a geopoint (a 'lat,lon' string)")
    lat = f"TRY_CAST(trim(split_part({x}, ',', 1)) AS DOUBLE)"
    lon = f"TRY_CAST(trim(split_part({x}, ',', 2)) AS DOUBLE)"
    valid = (
        f"regexp_full_match({x}, '\\s*[-+]?[0-9]+(\\.[0-9]+)?\\s*,\\s*[-+]?[0-9]+(\\.[0-9]+)?\\s*')"
        f" AND abs({lat}) <= 90 AND abs({lon}) <= 180"
    )
    return Converted(
        f"CAST(to_json(trim(split_part({x}, ',', 1)) || ',' || trim(split_part({x}, ',', 2)))"
        " AS VARCHAR)",
        [
            Check(
                "invalid_geopoint",
                column,
                f"({x} IS NOT NULL AND NOT coalesce({valid}, false))",
                f"{column} is not a geopoint 'lat,lon' (lat -90..90, lon -180..180)",
            )
        ],
    )
