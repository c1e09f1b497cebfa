"""Column -> JSON value conversion, written as DuckDB SQL over an Arrow batch.

Every mapped value is turned into a SQL expression yielding its JSON text (or NULL when the
value is null), plus the row checks the conversion needs (a string that is not a datetime, a
NaN, bytes that are not UTF-8). Serialization stitches the JSON texts into elements, and
validation turns the checks into a rule per row; both run in one vectorized query per batch.

Wire formats (MoEngage's documented ones):

* user and event datetimes: ``YYYY-MM-DDTHH:MM:SSZ`` in UTC; dates ``YYYY-MM-DD``;
* catalog datetimes: ISO 8601 with milliseconds, ``YYYY-MM-DDTHH:MM:SS.mmmZ``;
* timestamps without a time zone are taken as UTC;
* numbers as JSON numbers (shortest round-trip form), never NaN or infinity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import orjson
import pyarrow as pa

from moengage_pipelines.push.mapping import MappingError

__all__ = [
    "CATALOG_DATETIME_FORMAT",
    "DATETIME_FORMAT",
    "DATE_FORMAT",
    "Check",
    "Converted",
    "Derived",
    "TypeFamily",
    "convert",
    "json_key",
    "sql_ident",
    "sql_string",
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


@dataclass(frozen=True, slots=True)
class Check:
    """A row check: when ``condition`` (SQL) is true, the row is rejected under ``rule``.

    Attributes:
        rule: Rule name, e.g. ``"invalid_datetime"``.
        column: The source column at fault, if one.
        condition: DuckDB boolean expression over the batch's columns.
        message: Human explanation stored with the dead letter.
    """

    rule: str
    column: str | None
    condition: str
    message: str


@dataclass(frozen=True, slots=True)
class Converted:
    """A column converted for the wire.

    Attributes:
        json: SQL expression giving the value's JSON text, NULL when the value is null.
        checks: Checks that reject rows the conversion cannot represent.
    """

    json: str
    checks: list[Check] = field(default_factory=list)


class Derived:
    """Expressions computed once per row in an inner query and referenced by name.

    A value used by a check and by the element (a parsed timestamp, a normalized platform)
    is then computed once instead of at each use.
    """

    def __init__(self) -> None:
        self.columns: dict[str, str] = {}

    def __call__(self, sql: str) -> str:
        """Register an expression; return the quoted name of its column."""
        name = self.columns.setdefault(sql, f"__moengage_d{len(self.columns)}")
        return sql_ident(name)

    def select_list(self) -> str:
        """``expr AS name, ...`` for the inner query (empty when nothing is derived)."""
        return ", ".join(f"{sql} AS {sql_ident(name)}" for sql, name in self.columns.items())


def sql_ident(name: str) -> str:
    """Quote a column name for DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def sql_string(text: str) -> str:
    """Quote a string literal for DuckDB."""
    return "'" + text.replace("'", "''") + "'"


def json_key(name: str) -> str:
    """The exact JSON text of an object key, e.g. ``"Loan Amount"`` with quotes, escaped."""
    return orjson.dumps(name).decode()


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


def _quoted(text_sql: str) -> str:
    # Only for texts that need no escaping (formatted timestamps).
    return f"('\"' || {text_sql} || '\"')"


def _timestamp_utc(expr: str, family: TypeFamily) -> str:
    """A timestamp whose wall-clock reading is UTC.

    Zoned timestamps are DuckDB TIMESTAMPTZ, formatted in the session zone (UTC); naive ones
    are already UTC by convention and dates are their midnight, so both stay naive.
    """
    if family == "date":
        return f"CAST({expr} AS TIMESTAMP)"
    return expr


def _nested_value(expr: str, data_type: pa.DataType) -> str:
    """A DuckDB value whose ``to_json`` is right: timestamps become ISO strings, bytes text."""
    if pa.types.is_dictionary(data_type):
        return _nested_value(expr, data_type.value_type)
    family = type_family(data_type)
    if family == "timestamp":
        return f"strftime({_timestamp_utc(expr, family)}, '{DATETIME_FORMAT}')"
    if family == "date":
        return f"strftime({expr}, '{DATE_FORMAT}')"
    if family == "binary":
        return f"try(decode({expr}))"
    if family in {"time", "other"}:
        return f"CAST({expr} AS VARCHAR)"
    if family == "nested" and not pa.types.is_map(data_type):
        if pa.types.is_struct(data_type):
            parts = []
            for child in data_type:
                child_value = _nested_value(f"{expr}.{sql_ident(child.name)}", child.type)
                parts.append(f"{sql_ident(child.name)} := {child_value}")
            if not parts:
                return expr
            return f"CASE WHEN {expr} IS NULL THEN NULL ELSE struct_pack({', '.join(parts)}) END"
        inner = _nested_value("v", data_type.value_type)
        return expr if inner == "v" else f"list_transform({expr}, lambda v: {inner})"
    return expr


def _nested_non_finite(expr: str, data_type: pa.DataType) -> str | None:
    """A condition true when a list of floats holds NaN or infinity (JSON cannot carry them)."""
    if pa.types.is_dictionary(data_type):
        return None
    is_list = (
        pa.types.is_list(data_type)
        or pa.types.is_large_list(data_type)
        or pa.types.is_fixed_size_list(data_type)
    )
    if is_list and pa.types.is_floating(data_type.value_type):
        return f"coalesce(list_bool_or(list_transform({expr}, lambda v: NOT isfinite(v))), false)"
    if pa.types.is_struct(data_type):
        parts = []
        for child in data_type:
            child_expr = f"{expr}.{sql_ident(child.name)}"
            if pa.types.is_floating(child.type):
                parts.append(f"coalesce(NOT isfinite({child_expr}), false)")
            else:
                nested = _nested_non_finite(child_expr, child.type)
                if nested:
                    parts.append(nested)
        return " OR ".join(parts) if parts else None
    return None


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


def _inline(sql: str) -> str:
    return f"({sql})"


def convert(
    column: str, data_type: pa.DataType, target: Target, derive: Callable[[str], str] = _inline
) -> Converted:
    """Build the JSON SQL and the checks for one mapped column.

    Args:
        column: Source column name.
        data_type: Its Arrow type.
        target: ``auto`` keeps the column's type; the other targets convert (and reject rows
            whose value does not convert); ``catalog_*`` use the catalog's wire formats.
        derive: Registers a value used more than once (see ``Derived``) and returns a
            reference to it; by default the expression is repeated.

    Raises:
        MappingError: If the column's type cannot be sent as the target at all.
    """
    x = sql_ident(column)
    family = type_family(data_type)
    if target in {"catalog_string", "catalog_bool", "catalog_double", "catalog_datetime"}:
        target = target.removeprefix("catalog_")  # type: ignore[assignment]
        if target == "double":
            target = "number"
        if target == "datetime":
            return _datetime(x, column, family, CATALOG_DATETIME_FORMAT, derive)
    if target == "catalog_geopoint":
        return _geopoint(x, column, family)
    if target == "auto":
        return _auto(x, column, data_type, family)
    if target == "string":
        return _string(x, column, data_type, family)
    if target == "number":
        return _number(x, column, family, derive)
    if target == "bool":
        return _bool(x, column, family, derive)
    if target == "datetime":
        return _datetime(x, column, family, DATETIME_FORMAT, derive)
    if target == "date":
        return _datetime(x, column, family, DATE_FORMAT, derive)
    raise MappingError(f"unknown attribute type {target!r} for column {column!r}")


def _auto(x: str, column: str, data_type: pa.DataType, family: TypeFamily) -> Converted:
    if family == "string":
        return Converted(f"CAST(to_json({x}) AS VARCHAR)")
    if family == "binary":
        return Converted(
            f"CAST(to_json(try(decode({x}))) AS VARCHAR)", [_invalid_utf8_check(x, column)]
        )
    if family == "integer":
        return Converted(f"CAST({x} AS VARCHAR)")
    if family == "float":
        return Converted(f"CAST(to_json({x}) AS VARCHAR)", [_non_finite_check(x, column)])
    if family == "bool":
        return Converted(f"CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END")
    if family == "decimal":
        return Converted(f"CAST(to_json({x}) AS VARCHAR)")
    if family == "timestamp":
        return Converted(_quoted(f"strftime({_timestamp_utc(x, family)}, '{DATETIME_FORMAT}')"))
    if family == "date":
        return Converted(_quoted(f"strftime({x}, '{DATE_FORMAT}')"))
    if family == "null":
        return Converted("CAST(NULL AS VARCHAR)")
    if family == "nested":
        checks = []
        non_finite = _nested_non_finite(x, data_type)
        if non_finite:
            checks.append(
                Check(
                    "non_finite_number",
                    column,
                    non_finite,
                    f"{column} holds NaN or infinity, which JSON cannot carry",
                )
            )
        return Converted(f"CAST(to_json({_nested_value(x, data_type)}) AS VARCHAR)", checks)
    # time of day, durations and anything else: their text form.
    return Converted(f"CAST(to_json(CAST({x} AS VARCHAR)) AS VARCHAR)")


def _string(x: str, column: str, data_type: pa.DataType, family: TypeFamily) -> Converted:
    if family == "binary":
        return _auto(x, column, data_type, family)
    if family == "float":
        return Converted(
            f"CAST(to_json(CAST({x} AS VARCHAR)) AS VARCHAR)", [_non_finite_check(x, column)]
        )
    if family in {"timestamp", "date"}:
        return _auto(x, column, data_type, family)
    if family == "bool":
        return Converted(f"CASE WHEN {x} THEN '\"true\"' WHEN NOT {x} THEN '\"false\"' END")
    if family == "nested":
        raise _unsupported(column, family, "string")
    return Converted(f"CAST(to_json(CAST({x} AS VARCHAR)) AS VARCHAR)")


def _number(
    x: str, column: str, family: TypeFamily, derive: Callable[[str], str]
) -> Converted:
    if family in {"integer", "decimal"}:
        return Converted(f"CAST(to_json({x}) AS VARCHAR)")
    if family == "float":
        return Converted(f"CAST(to_json({x}) AS VARCHAR)", [_non_finite_check(x, column)])
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
        return _auto(x, column, pa.bool_(), family)
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
    x: str, column: str, family: TypeFamily, derive: Callable[[str], str] = _inline
) -> tuple[str, list[Check]]:
    """A TIMESTAMPTZ expression for a timestamp, date or ISO 8601 string column.

    Strings are parsed by DuckDB (``2024-03-01``, ``2024-03-01T10:00:00Z``,
    ``2024-03-01 10:00:00+05:30``...); a value that does not parse fails ``invalid_datetime``.
    """
    if family in {"timestamp", "date"}:
        return _timestamp_utc(x, family), []
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
    return Converted(_quoted(f"strftime({timestamp}, '{fmt}')"), checks)


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
