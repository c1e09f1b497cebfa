"""MoEngage's rules, applied before sending.

Bulk import answers 200 and drops bad elements silently, so every rule MoEngage documents is
checked here and a failing row becomes a dead letter naming the rule and the column.

Two levels:

* mapping level (:func:`check_schema`): a mapped column missing from the source, or of a type
  that cannot be sent, is a :class:`~moengage_pipelines.push.mapping.MappingError` before any
  row is processed (names are checked when the mapping is loaded);
* row level (:func:`row_checks`): SQL conditions evaluated per batch in the serialization
  query; the first failing rule wins and is counted.

Rules (``Rule``): ``missing_customer_id``, ``banned_customer_id``, ``short_customer_id``,
``missing_event_name``, ``reserved_event_name``, ``missing_event_time``, ``invalid_datetime``,
``event_time_in_milliseconds``, ``future_event_time``, ``invalid_platform``,
``invalid_timezone_offset``, ``non_finite_number``, ``invalid_utf8``, ``invalid_type``,
``invalid_geopoint``, ``missing_item_id``, ``missing_mandatory_attribute``,
``duplicate_item_id``, ``invalid_json``, ``row_too_large`` and, from the catalog API's
synchronous answer, ``catalog_<error-id>``.

Customer and item ids are compared, and by default sent, without surrounding whitespace (see
``ids``): MoEngage tells ``" a"`` and ``"a"`` apart, and warehouses pad ids.

Platforms are normalized, not rejected, when only the case differs (``android`` ->
``ANDROID``, ``IOS`` -> ``iOS``): MoEngage's enum is case-sensitive but the case carries no
meaning in a warehouse column. Values outside the enum are rejected (``invalid_platform``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum

import pyarrow as pa

from moengage_pipelines.limits import (
    BANNED_CUSTOMER_IDS,
    EVENT_PLATFORMS,
    USER_TIMEZONE_OFFSET_MAX,
    USER_TIMEZONE_OFFSET_MIN,
)
from moengage_pipelines.push.mapping import (
    CatalogMapping,
    EntityMapping,
    EventMapping,
    MappingError,
    UserMapping,
)
from moengage_pipelines.push.prepare.column_types import type_family
from moengage_pipelines.push.prepare.conversion import parse_timestamp_sql
from moengage_pipelines.push.prepare.ids import trimmed_id_sql
from moengage_pipelines.push.prepare.sql_text import Check, inline_sql
from moengage_pipelines.warehouse.identifiers import quote_identifier, quote_literal

__all__ = [
    "MILLISECONDS_THRESHOLD",
    "Rule",
    "check_schema",
    "customer_id_checks",
    "event_time_sql",
    "platform_sql",
    "row_checks",
]

# An epoch time in seconds at or above this is after the year 5138: such a number is a time
# in milliseconds read as seconds.
MILLISECONDS_THRESHOLD = 100_000_000_000

class Rule(StrEnum):
    """Names of the row rules, as stored in dead letters and counted in reports."""

    MISSING_CUSTOMER_ID = "missing_customer_id"
    BANNED_CUSTOMER_ID = "banned_customer_id"
    SHORT_CUSTOMER_ID = "short_customer_id"
    MISSING_EVENT_NAME = "missing_event_name"
    RESERVED_EVENT_NAME = "reserved_event_name"
    MISSING_EVENT_TIME = "missing_event_time"
    INVALID_DATETIME = "invalid_datetime"
    EVENT_TIME_IN_MILLISECONDS = "event_time_in_milliseconds"
    FUTURE_EVENT_TIME = "future_event_time"
    INVALID_PLATFORM = "invalid_platform"
    INVALID_TIMEZONE_OFFSET = "invalid_timezone_offset"
    NON_FINITE_NUMBER = "non_finite_number"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_TYPE = "invalid_type"
    INVALID_GEOPOINT = "invalid_geopoint"
    MISSING_ITEM_ID = "missing_item_id"
    MISSING_MANDATORY_ATTRIBUTE = "missing_mandatory_attribute"
    DUPLICATE_ITEM_ID = "duplicate_item_id"
    INVALID_JSON = "invalid_json"
    ROW_TOO_LARGE = "row_too_large"


_CUSTOMER_ID_FAMILIES = {"string", "integer", "decimal"}


def check_schema(mapping: EntityMapping, schema: pa.Schema) -> None:
    """Check that every mapped column exists and has a type that can be sent.

    Raises:
        MappingError: Naming the missing column(s) and the columns the source has, or the
            column whose type cannot be used.
    """
    names = set(schema.names)
    missing = [column for column in mapping.columns() if column not in names]
    if missing:
        raise MappingError(
            f"mapped column(s) {', '.join(map(repr, missing))} not in the source; "
            f"it has {', '.join(map(repr, schema.names))}"
        )
    key_column = mapping.row_key_column
    family = type_family(schema.field(key_column).type)
    if family not in _CUSTOMER_ID_FAMILIES:
        role = "id_column" if isinstance(mapping, CatalogMapping) else "customer_id"
        raise MappingError(
            f"{role} column {key_column!r} is of type {family}; use a string or integer column"
        )
    if isinstance(mapping, EventMapping):
        _check_event_schema(mapping, schema)


def _check_event_schema(mapping: EventMapping, schema: pa.Schema) -> None:
    expectations = {
        mapping.event_name_column: {"string"},
        mapping.platform_column: {"string"},
        mapping.user_timezone_offset_column: {"integer", "float", "decimal"},
        mapping.event_time_column: {"timestamp", "date", "string", "integer", "float"},
    }
    for column, allowed in expectations.items():
        if column is None:
            continue
        family = type_family(schema.field(column).type)
        if family not in allowed:
            raise MappingError(
                f"column {column!r} is of type {family}; expected {' or '.join(sorted(allowed))}"
            )


def customer_id_checks(
    column: str, schema: pa.Schema, derive: Callable[[str], str] = inline_sql
) -> list[Check]:
    """Checks on a customer id column: missing (or only whitespace), banned value, too short."""
    x = quote_identifier(column)
    text = derive(trimmed_id_sql(column, schema.field(column).type))
    banned = ", ".join(quote_literal(value) for value in sorted(BANNED_CUSTOMER_IDS))
    return [
        Check(
            Rule.MISSING_CUSTOMER_ID,
            column,
            f"({x} IS NULL OR {text} = '')",
            "customer_id is null or empty",
        ),
        Check(
            Rule.BANNED_CUSTOMER_ID,
            column,
            # Every banned value is short: the length test spares lower() on real ids.
            f"(length({text}) <= {max(map(len, BANNED_CUSTOMER_IDS))} "
            f"AND lower({text}) IN ({banned}))",
            "customer_id is a placeholder MoEngage refuses (unknown, null, 0, guest, ...)",
        ),
        Check(
            Rule.SHORT_CUSTOMER_ID,
            column,
            f"length({text}) < 2",
            "customer_id must be longer than one character",
        ),
    ]


def event_time_sql(
    mapping: EventMapping, schema: pa.Schema, derive: Callable[[str], str] = inline_sql
) -> tuple[str, list[Check], bool]:
    """The event's time as a DuckDB timestamp, the checks parsing needs, and whether it is naive.

    A naive timestamp reads as UTC wall-clock time (naive source columns are UTC by
    convention); otherwise it is a TIMESTAMPTZ.
    """
    column = mapping.event_time_column
    assert column is not None
    x = quote_identifier(column)
    data_type = schema.field(column).type
    family = type_family(data_type)
    if family in {"integer", "float"}:
        seconds = f"{x} / 1000.0" if mapping.event_time_unit == "ms" else x
        parsed = derive(f"try(to_timestamp(CAST({seconds} AS DOUBLE)))")
        checks = []
        if family == "float":
            # The time is required when its column is mapped: NaN is no time, whatever
            # ``non_finite`` says about attributes.
            checks.append(
                Check(
                    Rule.NON_FINITE_NUMBER,
                    column,
                    f"coalesce(NOT isfinite({x}), false)",
                    f"{column} (the event time) is NaN or infinite; a time is required",
                )
            )
        checks.append(
            Check(
                Rule.INVALID_DATETIME,
                column,
                f"({x} IS NOT NULL AND {parsed} IS NULL)",
                f"{column} is not a valid epoch time in {mapping.event_time_unit}",
            )
        )
        return parsed, checks, False
    timestamp, checks = parse_timestamp_sql(x, column, family, derive)
    naive = family == "date" or (family == "timestamp" and _unzoned(data_type))
    return timestamp, checks, naive


def _unzoned(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    return getattr(data_type, "tz", None) is None


def platform_sql(column: str) -> str:
    """The platform in MoEngage's spelling, NULL when unknown or empty.

    Values already spelled right pass through; only the others are normalized.
    """
    x = quote_identifier(column)
    canonical = ", ".join(quote_literal(platform) for platform in EVENT_PLATFORMS)
    return (
        f"CASE WHEN {x} IN ({canonical}) THEN {x} ELSE CASE lower(trim({x})) "
        f"WHEN 'android' THEN 'ANDROID' WHEN 'ios' THEN 'iOS' WHEN 'web' THEN 'web' "
        f"WHEN 'tv' THEN 'TV' WHEN 'unknown' THEN 'unknown' END END"
    )


def row_checks(
    mapping: EntityMapping,
    schema: pa.Schema,
    *,
    now: datetime,
    value_checks: list[Check],
    derive: Callable[[str], str] = inline_sql,
) -> list[Check]:
    """Every row check of a mapping, in the order they are reported (first failure wins).

    Args:
        mapping: The mapping.
        schema: The source batch schema (already checked with :func:`check_schema`).
        now: The present, for rejecting future event times (injectable for tests).
        value_checks: Checks produced by converting the attribute columns.
        derive: Registers values used more than once (see ``conversion.Derived``).
    """
    checks: list[Check] = []
    if isinstance(mapping, UserMapping | EventMapping):
        checks += customer_id_checks(mapping.customer_id, schema, derive)
    if isinstance(mapping, EventMapping):
        checks += _event_checks(mapping, schema, now, derive)
    if isinstance(mapping, CatalogMapping):
        checks += _catalog_checks(mapping, schema, derive)
    checks += value_checks
    return checks


def _event_checks(
    mapping: EventMapping, schema: pa.Schema, now: datetime, derive: Callable[[str], str]
) -> list[Check]:
    checks: list[Check] = []
    if mapping.event_name_column:
        column = mapping.event_name_column
        x = quote_identifier(column)
        checks += [
            Check(
                Rule.MISSING_EVENT_NAME,
                column,
                f"({x} IS NULL OR trim({x}) = '')",
                "event name is null or empty",
            ),
            Check(
                Rule.RESERVED_EVENT_NAME,
                column,
                f"lower(left({x}, 4)) = 'moe_'",
                "event name starts with the system prefix 'moe_'",
            ),
        ]
    if mapping.event_time_column:
        column = mapping.event_time_column
        x = quote_identifier(column)
        timestamp, parse_checks, naive = event_time_sql(mapping, schema, derive)
        moment = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        literal = f"TIMESTAMP '{moment}'" if naive else f"TIMESTAMPTZ '{moment}+00'"
        checks.append(
            Check(Rule.MISSING_EVENT_TIME, column, f"{x} IS NULL", "event time is null")
        )
        checks += parse_checks
        if mapping.event_time_unit == "s" and type_family(schema.field(column).type) in {
            "integer",
            "float",
        }:
            checks.append(_milliseconds_check(column, now))
        checks.append(
            Check(
                Rule.FUTURE_EVENT_TIME,
                column,
                f"coalesce({timestamp} > {literal}, false)",
                "event time is in the future; MoEngage does not accept future events",
            )
        )
    if mapping.platform_column:
        column = mapping.platform_column
        x = quote_identifier(column)
        normalized = derive(platform_sql(column))
        checks.append(
            Check(
                Rule.INVALID_PLATFORM,
                column,
                f"({normalized} IS NULL AND {x} IS NOT NULL AND trim({x}) <> '')",
                "platform is not one of ANDROID, iOS, web, TV, unknown",
            )
        )
    if mapping.user_timezone_offset_column:
        column = mapping.user_timezone_offset_column
        x = quote_identifier(column)
        # With ``non_finite: null`` a NaN offset is a missing one, left out of the action.
        finite = f"NOT isfinite(CAST({x} AS DOUBLE)) OR"
        if mapping.non_finite == "null":
            finite = f"isfinite(CAST({x} AS DOUBLE)) AND"
        checks.append(
            Check(
                Rule.INVALID_TIMEZONE_OFFSET,
                column,
                f"coalesce({finite} ({x} <> trunc({x}) "
                f"OR {x} < {USER_TIMEZONE_OFFSET_MIN} OR {x} > {USER_TIMEZONE_OFFSET_MAX}), false)",
                f"user_timezone_offset must be whole seconds in "
                f"{USER_TIMEZONE_OFFSET_MIN}..{USER_TIMEZONE_OFFSET_MAX}",
            )
        )
    return checks


def _milliseconds_check(column: str, now: datetime) -> Check:
    """Epoch milliseconds read as seconds: after the year 5138, yet a past time as milliseconds.

    Without it such rows are all ``future_event_time``, which does not say what to change.
    """
    x = quote_identifier(column)
    now_ms = int(now.timestamp() * 1000)
    return Check(
        Rule.EVENT_TIME_IN_MILLISECONDS,
        column,
        f"coalesce({x} >= {MILLISECONDS_THRESHOLD} AND {x} <= {now_ms}, false)",
        f"{column} looks like epoch milliseconds (read as seconds it is after the year 5138); "
        "set event_time_unit: ms in the mapping",
    )


def _catalog_checks(
    mapping: CatalogMapping, schema: pa.Schema, derive: Callable[[str], str]
) -> list[Check]:
    checks: list[Check] = []
    for name, column in mapping.mandatory_columns().items():
        x = quote_identifier(column)
        rule = Rule.MISSING_ITEM_ID if name == "id" else Rule.MISSING_MANDATORY_ATTRIBUTE
        text = f"trim(CAST({x} AS VARCHAR))"
        if name == "id":
            text = derive(trimmed_id_sql(column, schema.field(column).type))
        checks.append(
            Check(
                rule,
                column,
                f"({x} IS NULL OR {text} = '')",
                f"mandatory catalog attribute {name!r} is null or empty",
            )
        )
    return checks
