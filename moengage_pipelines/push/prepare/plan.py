"""One query per mapping and source schema: the rule each row fails, or its JSON element.

The query has three levels: the innermost computes the first failing row check and the JSON
text of every value (``GuardedValues``); the middle one adds the guard checks on those texts
and writes the element from them; the outer one empties the element of a rejected row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.push.mapping import EntityMapping, EventMapping, UserMapping
from moengage_pipelines.push.prepare.element_sql import (
    catalog_element,
    event_element,
    user_element,
)
from moengage_pipelines.push.prepare.ids import row_key_sql
from moengage_pipelines.push.prepare.invalid_utf8 import invalid_utf8_marker
from moengage_pipelines.push.prepare.rules import Rule, check_schema, row_checks
from moengage_pipelines.push.prepare.sql_text import Check, Derived, query_prefix
from moengage_pipelines.push.prepare.value_guard import GuardedValues
from moengage_pipelines.warehouse.identifiers import quote_identifier

__all__ = ["BATCH_VIEW", "SerializationPlan", "compile_plan", "filled_columns"]

BATCH_VIEW = "__moengage_batch"


@dataclass(frozen=True, slots=True)
class SerializationPlan:
    """The compiled query of a mapping over one source schema.

    Attributes:
        sql: Query selecting ``__reject`` (index into ``checks`` or NULL) and ``__element``.
        checks: Row checks in order.
    """

    sql: str
    checks: list[Check]



def compile_plan(
    mapping: EntityMapping,
    schema: pa.Schema,
    *,
    now: datetime,
    with_keys: bool = False,
    filled: frozenset[str] = frozenset(),
    invalid_utf8: frozenset[str] = frozenset(),
) -> SerializationPlan:
    """Compile a mapping against a source schema into one query.

    Args:
        mapping: The mapping.
        schema: Schema of the source batches.
        now: The present, for the future-event rule.
        with_keys: Also select each row's key as text (``__key``), as it is sent.
        filled: Columns known to hold no null (and no NaN) in the batches the plan runs on
            (see :func:`filled_columns`). Their values are written without the handling that
            leaves out null values: the same bytes with less work per row. A plan compiled
            with columns that do hold nulls rejects those rows (``invalid_json``).
        invalid_utf8: Mapped columns whose batches carry a marker column of rows that held
            bytes that are not UTF-8 (see ``invalid_utf8``); those rows are rejected
            (``invalid_utf8``) before any other check.

    Raises:
        MappingError: If a mapped column is missing or has a type that cannot be sent.
    """
    check_schema(mapping, schema)
    prefix = query_prefix(schema.names)
    derive = Derived(prefix)
    values = GuardedValues(prefix)
    if isinstance(mapping, UserMapping):
        element, value_checks = user_element(mapping, schema, derive, values, filled)
    elif isinstance(mapping, EventMapping):
        element, value_checks = event_element(mapping, schema, derive, values, filled)
    else:
        element, value_checks = catalog_element(mapping, schema, derive, values, filled)
    checks = [_utf8_check(column) for column in mapping.columns() if column in invalid_utf8]
    checks += row_checks(mapping, schema, now=now, value_checks=value_checks, derive=derive)
    source = BATCH_VIEW
    if derive.columns:
        source = f"(SELECT *, {derive.select_list()} FROM {BATCH_VIEW})"
    check, key = quote_identifier(f"{prefix}check"), quote_identifier(f"{prefix}key")
    computed = [f"{_first_failing(checks, 0)} AS {check}"]
    if values.select_list():
        computed.append(values.select_list())
    if with_keys:
        computed.append(f"{row_key_sql(mapping, schema, derive)} AS {key}")
    guarded = f"coalesce({check}, {_first_failing(values.guards, len(checks))})"
    keys = (f", {key}", f", {key} AS __key") if with_keys else ("", "")
    # Rejected rows get a NULL (empty) element so the bytes to send stay contiguous.
    sql = (
        f"SELECT __reject, CASE WHEN __reject IS NULL THEN __element END AS __element{keys[1]} "
        f"FROM (SELECT {guarded} AS __reject, {element} AS __element{keys[0]} "
        f"FROM (SELECT {', '.join(computed)} FROM {source}))"
    )
    return SerializationPlan(sql=sql, checks=checks + values.guards)


def _first_failing(checks: list[Check], first_index: int) -> str:
    """SQL giving the index of the first check whose condition holds, or NULL."""
    if not checks:
        return "CAST(NULL AS INTEGER)"
    cases = " ".join(
        f"WHEN {check.condition} THEN {first_index + i}" for i, check in enumerate(checks)
    )
    return f"CASE {cases} END"


def _utf8_check(column: str) -> Check:
    return Check(
        Rule.INVALID_UTF8,
        column,
        quote_identifier(invalid_utf8_marker(column)),
        f"{column} holds bytes that are not valid UTF-8",
    )


def filled_columns(batch: pa.RecordBatch | pa.Table, columns: Iterable[str]) -> frozenset[str]:
    """The columns among ``columns`` that hold no null value in ``batch``.

    Dictionary columns count only when their dictionary holds no null either, and run-end
    encoded and union columns never count: their validity does not say whether a value is
    null. Float columns count only when every value is finite: NaN may become a null.
    """
    names = set(batch.schema.names)
    return frozenset(name for name in columns if name in names and _no_nulls(batch.column(name)))


def _no_nulls(column: pa.Array | pa.ChunkedArray) -> bool:
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        data_type = chunk.type
        if chunk.null_count or pa.types.is_run_end_encoded(data_type):
            return False
        if pa.types.is_union(data_type):
            return False
        if pa.types.is_dictionary(data_type) and chunk.dictionary.null_count:
            return False
        if not _all_finite(chunk):
            return False
    return True


def _all_finite(chunk: pa.Array) -> bool:
    """False when a float column (or a dictionary of floats) holds NaN or infinity."""
    values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
    if not pa.types.is_floating(values.type):
        return True
    try:
        return bool(pc.all(pc.is_finite(values)).as_py() is not False)
    except pa.ArrowNotImplementedError:  # half floats have no kernel: assume the worst
        return False
