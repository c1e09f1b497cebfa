"""Arrow batch -> one compact JSON element per row, plus the rule each rejected row failed.

One DuckDB query per batch computes, for every row, the index of the first failed check (or
NULL) and the element's exact JSON text followed by a ``,`` separator. The separator lets a
request body be ``prefix + one contiguous slice of the elements buffer + suffix`` (see
``packing``). The query is vectorized and multi-threaded; no Python code runs per row except
for rejected rows, which become dead letters.

Element shapes (bulk import and catalog):

* user: ``{"type":"customer","customer_id":..,"attributes":{..}}`` (``platforms`` inside
  ``attributes`` as in MoEngage's examples; ``update_existing_only`` when set);
* event: ``{"type":"event","customer_id":..,"actions":[{"action":..,"attributes":{..},
  "platform":..,"app_version":..,"current_time":..,"user_timezone_offset":..}]}`` with null
  optional fields left out;
* catalog item: ``{"id":..,"title":..,"link":..,"image_link":..,<custom>..}``.

Null attributes are left out unless the mapping sets ``send_nulls`` (a null may clear a value
MoEngage holds).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import orjson
import pyarrow as pa

from moengage_pipelines.push.conversion import (
    DATETIME_FORMAT,
    Check,
    Converted,
    Derived,
    convert,
    json_key,
    sql_ident,
)
from moengage_pipelines.push.mapping import (
    AttributeSpec,
    CatalogMapping,
    EventMapping,
    UserMapping,
)
from moengage_pipelines.push.validation import (
    check_schema,
    event_time_sql,
    platform_sql,
    row_checks,
)

__all__ = ["ElementBatch", "ElementSerializer", "SerializationPlan", "compile_plan"]

AnyMapping = UserMapping | EventMapping | CatalogMapping

_BATCH_VIEW = "__moengage_batch"


@dataclass(frozen=True, slots=True)
class SerializationPlan:
    """The compiled query of a mapping over one source schema.

    Attributes:
        sql: Query selecting ``__reject`` (index into ``checks`` or NULL) and ``__element``.
        checks: Row checks in order.
    """

    sql: str
    checks: list[Check]


@dataclass(frozen=True, slots=True)
class ElementBatch:
    """The serialized rows of one source batch.

    Attributes:
        elements: One value per row: the element's JSON text followed by ``,``, or null (and
            empty) for a rejected row, so that the bytes to send are contiguous.
        first_row: Source row number of the batch's first row.
        rejected: Positions (within the batch) of rejected rows.
        rejected_checks: The check each rejected row failed, aligned with ``rejected``.
        keys: Row key (customer or item id) of each row as text, when asked for.
    """

    elements: pa.StringArray
    first_row: int
    rejected: np.ndarray
    rejected_checks: list[Check]
    keys: pa.StringArray | None = None

    @property
    def accepted(self) -> int:
        """Rows to send."""
        return len(self.elements) - self.elements.null_count


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _object_sql(pairs: Sequence[tuple[str, Converted]], *, send_nulls: bool) -> str:
    """SQL of a JSON object from (key, converted value) pairs, nulls left out unless asked.

    ``concat_ws`` skips NULL members, so a pair whose value is null (``'"k":' || NULL``)
    disappears together with its separator.
    """
    if not pairs:
        return "'{}'"
    members = []
    for key, converted in pairs:
        prefix = _literal(json_key(key) + ":")
        if send_nulls:
            members.append(f"concat({prefix}, coalesce({converted.json}, 'null'))")
        else:
            members.append(f"({prefix} || {converted.json})")
    return f"concat('{{', concat_ws(',', {', '.join(members)}), '}}')"


def _attribute_pairs(
    attributes: dict[str, AttributeSpec], schema: pa.Schema, derive: Derived
) -> list[tuple[str, Converted]]:
    return [
        (name, convert(spec.column, schema.field(spec.column).type, spec.type, derive))
        for name, spec in attributes.items()
    ]


def _customer_id_json(column: str) -> str:
    return f"to_json(CAST({sql_ident(column)} AS VARCHAR))"


def _optional(key: str, value: str) -> str:
    """A ``,"key":value`` part that vanishes (NULL, skipped by concat) when value is NULL."""
    return f"({_literal(',' + json_key(key) + ':')} || {value})"


def _user_element(
    mapping: UserMapping, schema: pa.Schema, derive: Derived
) -> tuple[str, list[Check]]:
    pairs = _attribute_pairs(mapping.output_attributes(), schema, derive)
    if mapping.platforms:
        platforms = orjson.dumps(
            [
                {"platform": spec.platform, "active": "true" if spec.active else "false"}
                for spec in mapping.platforms
            ]
        ).decode()
        pairs.append(("platforms", Converted(_literal(platforms))))
    attributes = _object_sql(pairs, send_nulls=mapping.send_nulls)
    tail = ',"update_existing_only":true' if mapping.update_existing_only else ""
    # A NULL customer id makes its part vanish, but such rows are rejected anyway.
    element = (
        f"concat('{{\"type\":\"customer\",\"customer_id\":', "
        f"{_customer_id_json(mapping.customer_id)}, ',\"attributes\":', {attributes}, "
        f"{_literal(tail + '},')})"
    )
    return element, [check for _, converted in pairs for check in converted.checks]


def _event_element(
    mapping: EventMapping, schema: pa.Schema, derive: Derived
) -> tuple[str, list[Check]]:
    pairs = _attribute_pairs(mapping.attributes, schema, derive)
    checks = [check for _, converted in pairs for check in converted.checks]
    if mapping.event_name_column:
        action = f"to_json({sql_ident(mapping.event_name_column)})"
    else:
        action = _literal(orjson.dumps(mapping.event_name).decode())
    parts = [
        "'{\"type\":\"event\",\"customer_id\":'",
        _customer_id_json(mapping.customer_id),
        "',\"actions\":[{\"action\":'",
        action,
        "',\"attributes\":'",
        _object_sql(pairs, send_nulls=mapping.send_nulls),
    ]
    if mapping.platform_column:
        platform = derive(platform_sql(mapping.platform_column))
        parts.append(_optional("platform", f"to_json({platform})"))
    elif mapping.platform:
        parts.append(_literal(',"platform":' + orjson.dumps(mapping.platform).decode()))
    if mapping.app_version_column:
        column = sql_ident(mapping.app_version_column)
        parts.append(_optional("app_version", f"to_json(CAST({column} AS VARCHAR))"))
    elif mapping.app_version is not None:
        parts.append(_literal(',"app_version":' + orjson.dumps(mapping.app_version).decode()))
    if mapping.event_time_column:
        timestamp, _, _ = event_time_sql(mapping, schema, derive)
        formatted = f"('\"' || strftime({timestamp}, '{DATETIME_FORMAT}') || '\"')"
        parts.append(_optional("current_time", formatted))
    if mapping.user_timezone_offset_column:
        column = sql_ident(mapping.user_timezone_offset_column)
        offset = f"CAST(CAST({column} AS BIGINT) AS VARCHAR)"
        parts.append(_optional("user_timezone_offset", offset))
    elif mapping.user_timezone_offset is not None:
        parts.append(_literal(f',"user_timezone_offset":{mapping.user_timezone_offset}'))
    parts.append("'}]},'")
    return f"concat({', '.join(parts)})", checks


def _catalog_element(
    mapping: CatalogMapping, schema: pa.Schema, derive: Derived
) -> tuple[str, list[Check]]:
    pairs: list[tuple[str, Converted]] = [
        (name, convert(column, schema.field(column).type, "catalog_string", derive))
        for name, column in mapping.mandatory_columns().items()
    ]
    for name, spec in mapping.attributes.items():
        data_type = schema.field(spec.column).type
        kind = spec.type or infer_catalog_type(data_type)
        pairs.append((name, convert(spec.column, data_type, f"catalog_{kind}", derive)))  # type: ignore[arg-type]
    checks = [check for _, converted in pairs for check in converted.checks]
    return f"concat({_object_sql(pairs, send_nulls=False)}, ',')", checks


def infer_catalog_type(data_type: pa.DataType) -> str:
    """The catalog attribute type a column maps to when the mapping does not say."""
    from moengage_pipelines.push.conversion import type_family

    family = type_family(data_type)
    if family in {"integer", "float", "decimal"}:
        return "double"
    if family == "bool":
        return "bool"
    if family in {"timestamp", "date"}:
        return "datetime"
    return "string"


def compile_plan(
    mapping: AnyMapping, schema: pa.Schema, *, now: datetime, with_keys: bool = False
) -> SerializationPlan:
    """Compile a mapping against a source schema into one query.

    Args:
        mapping: The mapping.
        schema: Schema of the source batches.
        now: The present, for the future-event rule.
        with_keys: Also select each row's key as text (``__key``).

    Raises:
        MappingError: If a mapped column is missing or has a type that cannot be sent.
    """
    check_schema(mapping, schema)
    derive = Derived()
    if isinstance(mapping, UserMapping):
        element, value_checks = _user_element(mapping, schema, derive)
    elif isinstance(mapping, EventMapping):
        element, value_checks = _event_element(mapping, schema, derive)
    else:
        element, value_checks = _catalog_element(mapping, schema, derive)
    checks = row_checks(mapping, schema, now=now, value_checks=value_checks, derive=derive)
    if checks:
        cases = " ".join(f"WHEN {check.condition} THEN {i}" for i, check in enumerate(checks))
        reject = f"CASE {cases} END"
    else:
        reject = "CAST(NULL AS INTEGER)"
    key = f", CAST({sql_ident(mapping.row_key_column)} AS VARCHAR) AS __key" if with_keys else ""
    source = _BATCH_VIEW
    if derive.columns:
        source = f"(SELECT *, {derive.select_list()} FROM {_BATCH_VIEW})"
    # Rejected rows get a NULL (empty) element so the bytes to send stay contiguous.
    sql = (
        f"SELECT __reject, CASE WHEN __reject IS NULL THEN __element END AS __element"
        f"{', __key' if with_keys else ''} FROM "
        f"(SELECT {reject} AS __reject, {element} AS __element{key} FROM {source})"
    )
    return SerializationPlan(sql=sql, checks=checks)


class ElementSerializer:
    """Serializes source batches with one mapping; owns a private DuckDB database.

    One query on one batch keeps about one core busy; :meth:`serialize_stream` runs
    ``parallel`` batches at once (each on its own DuckDB connection) and hands the results
    back in order, so reading, serializing and packing overlap on every core.

    Args:
        mapping: The mapping.
        now: The present, for the future-event rule (defaults to the current time).
        threads: DuckDB threads (defaults to DuckDB's choice: every core).
        with_keys: Also return each row's key (``ElementBatch.keys``).
        parallel: Batches serialized at once by :meth:`serialize_stream`.
    """

    def __init__(
        self,
        mapping: AnyMapping,
        *,
        now: datetime | None = None,
        threads: int | None = None,
        with_keys: bool = False,
        parallel: int = 2,
    ) -> None:
        self.mapping = mapping
        self.with_keys = with_keys
        self.now = now or datetime.now(UTC)
        self.parallel = max(1, parallel)
        self._connection = duckdb.connect()
        # Times are written in UTC; naive timestamps are read as UTC (for every connection).
        self._connection.execute("SET GLOBAL TimeZone = 'UTC'")
        if threads:
            self._connection.execute(f"SET GLOBAL threads = {int(threads)}")
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self._plans: dict[pa.Schema, SerializationPlan] = {}
        self._rows_seen = 0

    def plan_for(self, schema: pa.Schema) -> SerializationPlan:
        """The compiled plan of a schema (compiled once, then cached)."""
        plan = self._plans.get(schema)
        if plan is None:
            plan = compile_plan(self.mapping, schema, now=self.now, with_keys=self.with_keys)
            self._plans[schema] = plan
        return plan

    def serialize(self, batch: pa.RecordBatch | pa.Table) -> ElementBatch:
        """Serialize one batch; rows are numbered on from the previous batches."""
        plan = self.plan_for(batch.schema)
        first = self._rows_seen
        self._rows_seen += batch.num_rows
        return self._run(plan, batch, first)

    def serialize_stream(
        self, batches: Iterable[pa.RecordBatch]
    ) -> Iterator[tuple[pa.RecordBatch, ElementBatch]]:
        """Serialize batches ``parallel`` at a time; yield ``(batch, result)`` in order.

        At most ``parallel`` batches are read ahead, so memory stays bounded.
        """
        if self.parallel == 1:
            for batch in batches:
                yield batch, self.serialize(batch)
            return
        in_flight: deque[tuple[pa.RecordBatch, Future[ElementBatch]]] = deque()
        with ThreadPoolExecutor(self.parallel, thread_name_prefix="moengage-serialize") as pool:
            try:
                for batch in batches:
                    plan = self.plan_for(batch.schema)  # mapping errors surface here, in order
                    first = self._rows_seen
                    self._rows_seen += batch.num_rows
                    in_flight.append((batch, pool.submit(self._run, plan, batch, first)))
                    if len(in_flight) >= self.parallel:
                        done, future = in_flight.popleft()
                        yield done, future.result()
                while in_flight:
                    done, future = in_flight.popleft()
                    yield done, future.result()
            finally:
                for _, future in in_flight:
                    future.cancel()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            self._local.cursor = cursor
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    def _run(
        self, plan: SerializationPlan, batch: pa.RecordBatch | pa.Table, first: int
    ) -> ElementBatch:
        cursor = self._cursor()
        cursor.register(_BATCH_VIEW, batch)
        try:
            result = cursor.sql(plan.sql).to_arrow_table()
        finally:
            cursor.unregister(_BATCH_VIEW)
        reject = _one_array(result.column("__reject"))
        elements = _one_array(result.column("__element"))
        if not (pa.types.is_string(elements.type) or pa.types.is_binary(elements.type)):
            elements = elements.cast(pa.string())
        keys = _one_array(result.column("__key")) if self.with_keys else None
        if reject.null_count == len(reject):
            rejected = np.empty(0, dtype=np.int64)
            checks: list[Check] = []
        else:
            rejected = np.flatnonzero(reject.is_valid().to_numpy(zero_copy_only=False))
            checks = [plan.checks[index] for index in reject.drop_null().to_pylist()]
        return ElementBatch(
            elements=elements, first_row=first, rejected=rejected, rejected_checks=checks,
            keys=keys,
        )

    def close(self) -> None:
        """Close the DuckDB connections."""
        for cursor in self._cursors:
            cursor.close()
        self._connection.close()

    def __enter__(self) -> ElementSerializer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array; a single chunk is used as it is (no copy of the elements)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
