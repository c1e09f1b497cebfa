"""One query per mapping and source schema: the rule each row fails, or its JSON element."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from moengage_pipelines.push.mapping import EntityMapping, EventMapping, UserMapping
from moengage_pipelines.push.prepare.element_sql import (
    catalog_element,
    event_element,
    user_element,
)
from moengage_pipelines.push.prepare.rules import check_schema, row_checks
from moengage_pipelines.push.prepare.sql_text import Check, Derived
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
) -> SerializationPlan:
    """Compile a mapping against a source schema into one query.

    Args:
        mapping: The mapping.
        schema: Schema of the source batches.
        now: The present, for the future-event rule.
        with_keys: Also select each row's key as text (``__key``).
        filled: Columns known to hold no null in the batches the plan runs on (see
            :func:`filled_columns`). Their values are written without the handling that
            leaves out null values: the same bytes with less work per row. A plan compiled
            with columns that do hold nulls writes wrong elements for those rows.

    Raises:
        MappingError: If a mapped column is missing or has a type that cannot be sent.
    """
    check_schema(mapping, schema)
    derive = Derived()
    if isinstance(mapping, UserMapping):
        element, value_checks = user_element(mapping, schema, derive, filled)
    elif isinstance(mapping, EventMapping):
        element, value_checks = event_element(mapping, schema, derive, filled)
    else:
        element, value_checks = catalog_element(mapping, schema, derive, filled)
    checks = row_checks(mapping, schema, now=now, value_checks=value_checks, derive=derive)
    if checks:
        cases = " ".join(f"WHEN {check.condition} THEN {i}" for i, check in enumerate(checks))
        reject = f"CASE {cases} END"
    else:
        reject = "CAST(NULL AS INTEGER)"
    key_column = quote_identifier(mapping.row_key_column)
    key = f", CAST({key_column} AS VARCHAR) AS __key" if with_keys else ""
    source = BATCH_VIEW
    if derive.columns:
        source = f"(SELECT *, {derive.select_list()} FROM {BATCH_VIEW})"
    # Rejected rows get a NULL (empty) element so the bytes to send stay contiguous.
    sql = (
        f"SELECT __reject, CASE WHEN __reject IS NULL THEN __element END AS __element"
        f"{', __key' if with_keys else ''} FROM "
        f"(SELECT {reject} AS __reject, {element} AS __element{key} FROM {source})"
    )
    return SerializationPlan(sql=sql, checks=checks)


def filled_columns(batch: pa.RecordBatch | pa.Table, columns: Iterable[str]) -> frozenset[str]:
    """The columns among ``columns`` that hold no null value in ``batch``.

    Dictionary columns count only when their dictionary holds no null either, and run-end
    encoded and union columns never count: their validity does not say whether a value is
    null.
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
    return True
