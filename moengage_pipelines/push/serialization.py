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
MoEngage holds). Leaving a value out costs string work on every row, so each batch gets the
plan of its null-free columns: their values are written plainly, the others with the null
handling; the bytes are the same either way.
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
    type_family,
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

__all__ = [
    "ElementBatch", "ElementSerializer", "SerializationPlan", "compile_plan", "filled_columns",
]

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


class _Concat:
    """The arguments of one ``concat(...)``, with adjacent literal texts merged.

    ``concat`` skips NULL arguments, so an expression that may be NULL must carry its own
    key with ``||`` (see :meth:`optional`); one known to be set can be a plain argument.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[bool, str]] = []  # (is literal text, text or SQL)

    def text(self, text: str) -> None:
        """Append literal text."""
        if self._parts and self._parts[-1][0]:
            self._parts[-1] = (True, self._parts[-1][1] + text)
        else:
            self._parts.append((True, text))

    def sql(self, expression: str) -> None:
        """Append an expression (a NULL adds nothing)."""
        self._parts.append((False, expression))

    def optional(self, prefix: str, value: str, *, present: bool) -> None:
        """Append ``prefix`` and ``value``, both left out when ``value`` is NULL.

        ``present`` says ``value`` is never NULL on the rows that are sent: the pair is then
        written without the null handling (the same bytes, less work per row).
        """
        if present:
            self.text(prefix)
            self.sql(value)
        else:
            self.sql(f"({_literal(prefix)} || {value})")

    def extend(self, other: _Concat) -> None:
        """Append every argument of ``other``."""
        for is_text, part in other._parts:
            if is_text:
                self.text(part)
            else:
                self.sql(part)

    def build(self) -> str:
        """The ``concat(...)`` expression."""
        parts = [_literal(part) if is_text else part for is_text, part in self._parts]
        return f"concat({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class _Member:
    """One ``"key":value`` pair of a JSON object.

    Attributes:
        key: The key.
        converted: Its value's JSON SQL (NULL when null) and checks.
        present: The value is never NULL on the rows that are sent.
    """

    key: str
    converted: Converted
    present: bool


def _object(members: Sequence[_Member], *, send_nulls: bool) -> _Concat:
    """A JSON object from its members, nulls left out unless asked.

    ``concat_ws`` skips NULL members, so a pair whose value is null (``'"k":' || NULL``)
    disappears together with its separator. Consecutive members known to be set are written
    as one plain ``concat`` argument instead; when all are, the object needs no ``concat_ws``.
    """
    out = _Concat()
    if not members:
        out.text("{}")
        return out
    if send_nulls:
        # Every pair is written, a null as ``null``: all of them are set.
        members = [
            _Member(m.key, Converted(f"coalesce({m.converted.json}, 'null')"), True)
            for m in members
        ]
    if all(member.present for member in members):
        for index, member in enumerate(members):
            out.text(("{" if index == 0 else ",") + json_key(member.key) + ":")
            out.sql(member.converted.json)
        out.text("}")
        return out
    groups: list[str] = []
    run: _Concat | None = None
    for member in members:
        prefix = json_key(member.key) + ":"
        if not member.present:
            if run is not None:
                groups.append(run.build())
                run = None
            groups.append(f"({_literal(prefix)} || {member.converted.json})")
            continue
        if run is None:
            run = _Concat()
        else:
            run.text(",")
        run.text(prefix)
        run.sql(member.converted.json)
    if run is not None:
        groups.append(run.build())
    out.text("{")
    out.sql(f"concat_ws(',', {', '.join(groups)})")
    out.text("}")
    return out


def _is_set(column: str, schema: pa.Schema, filled: frozenset[str]) -> bool:
    """Whether ``column``'s values are known to be non-null in the batch."""
    return column in filled and type_family(schema.field(column).type) != "null"


def _attribute_members(
    attributes: dict[str, AttributeSpec], schema: pa.Schema, derive: Derived,
    filled: frozenset[str],
) -> list[_Member]:
    # Every conversion yields a value for a non-null input, or fails a check that rejects
    # the row (``tests/push/test_serialization_plans.py`` holds them to it).
    return [
        _Member(
            name,
            convert(spec.column, schema.field(spec.column).type, spec.type, derive),
            _is_set(spec.column, schema, filled),
        )
        for name, spec in attributes.items()
    ]


def _customer_id_json(column: str) -> str:
    return f"to_json(CAST({sql_ident(column)} AS VARCHAR))"


def _user_element(
    mapping: UserMapping, schema: pa.Schema, derive: Derived, filled: frozenset[str]
) -> tuple[str, list[Check]]:
    members = _attribute_members(mapping.output_attributes(), schema, derive, filled)
    if mapping.platforms:
        platforms = orjson.dumps(
            [
                {"platform": spec.platform, "active": "true" if spec.active else "false"}
                for spec in mapping.platforms
            ]
        ).decode()
        members.append(_Member("platforms", Converted(_literal(platforms)), True))
    element = _Concat()
    element.text('{"type":"customer","customer_id":')
    # A NULL customer id makes its part vanish, but such rows are rejected anyway.
    element.sql(_customer_id_json(mapping.customer_id))
    element.text(',"attributes":')
    element.extend(_object(members, send_nulls=mapping.send_nulls))
    if mapping.update_existing_only:
        element.text(',"update_existing_only":true')
    element.text("},")
    return element.build(), [check for m in members for check in m.converted.checks]


def _event_element(
    mapping: EventMapping, schema: pa.Schema, derive: Derived, filled: frozenset[str]
) -> tuple[str, list[Check]]:
    members = _attribute_members(mapping.attributes, schema, derive, filled)
    checks = [check for m in members for check in m.converted.checks]
    element = _Concat()
    element.text('{"type":"event","customer_id":')
    element.sql(_customer_id_json(mapping.customer_id))
    element.text(',"actions":[{"action":')
    if mapping.event_name_column:
        element.sql(f"to_json({sql_ident(mapping.event_name_column)})")
    else:
        element.text(orjson.dumps(mapping.event_name).decode())
    element.text(',"attributes":')
    element.extend(_object(members, send_nulls=mapping.send_nulls))
    if mapping.platform_column:
        # An empty platform is sent without one (NULL), not rejected: never known to be set.
        platform = derive(platform_sql(mapping.platform_column))
        element.optional(',"platform":', f"to_json({platform})", present=False)
    elif mapping.platform:
        element.text(',"platform":' + orjson.dumps(mapping.platform).decode())
    if mapping.app_version_column:
        column = mapping.app_version_column
        element.optional(
            ',"app_version":', f"to_json(CAST({sql_ident(column)} AS VARCHAR))",
            present=_is_set(column, schema, filled),
        )
    elif mapping.app_version is not None:
        element.text(',"app_version":' + orjson.dumps(mapping.app_version).decode())
    if mapping.event_time_column:
        timestamp, _, _ = event_time_sql(mapping, schema, derive)
        formatted = f"strftime({timestamp}, '{DATETIME_FORMAT}')"
        # A time that does not parse fails a check, so a set column always gives a time.
        if _is_set(mapping.event_time_column, schema, filled):
            element.text(',"current_time":"')
            element.sql(formatted)
            element.text('"')
        else:
            element.optional(',"current_time":', f"('\"' || {formatted} || '\"')", present=False)
    if mapping.user_timezone_offset_column:
        column = mapping.user_timezone_offset_column
        element.optional(
            ',"user_timezone_offset":', f"CAST(CAST({sql_ident(column)} AS BIGINT) AS VARCHAR)",
            present=_is_set(column, schema, filled),
        )
    elif mapping.user_timezone_offset is not None:
        element.text(f',"user_timezone_offset":{mapping.user_timezone_offset}')
    element.text("}]},")
    return element.build(), checks


def _catalog_element(
    mapping: CatalogMapping, schema: pa.Schema, derive: Derived, filled: frozenset[str]
) -> tuple[str, list[Check]]:
    members = [
        _Member(
            name,
            convert(column, schema.field(column).type, "catalog_string", derive),
            _is_set(column, schema, filled),
        )
        for name, column in mapping.mandatory_columns().items()
    ]
    for name, spec in mapping.attributes.items():
        data_type = schema.field(spec.column).type
        kind = spec.type or infer_catalog_type(data_type)
        converted = convert(spec.column, data_type, f"catalog_{kind}", derive)  # type: ignore[arg-type]
        members.append(_Member(name, converted, _is_set(spec.column, schema, filled)))
    checks = [check for m in members for check in m.converted.checks]
    element = _object(members, send_nulls=False)
    element.text(",")
    return element.build(), checks


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
    mapping: AnyMapping,
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
        element, value_checks = _user_element(mapping, schema, derive, filled)
    elif isinstance(mapping, EventMapping):
        element, value_checks = _event_element(mapping, schema, derive, filled)
    else:
        element, value_checks = _catalog_element(mapping, schema, derive, filled)
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
        self._plans: dict[tuple[pa.Schema, frozenset[str]], SerializationPlan] = {}
        self._columns = tuple(mapping.columns())
        self._rows_seen = 0

    def plan_for(
        self, schema: pa.Schema, filled: frozenset[str] = frozenset()
    ) -> SerializationPlan:
        """The compiled plan of a schema (compiled once, then cached).

        Args:
            schema: Schema of the batches.
            filled: Mapped columns holding no null in them (see :func:`compile_plan`).
        """
        plan = self._plans.get((schema, filled))
        if plan is None:
            plan = compile_plan(
                self.mapping, schema, now=self.now, with_keys=self.with_keys, filled=filled
            )
            self._plans[(schema, filled)] = plan
        return plan

    def _plan_of(self, batch: pa.RecordBatch | pa.Table) -> SerializationPlan:
        # Columns without nulls are common; a plan that knows them does less work per row.
        return self.plan_for(batch.schema, filled_columns(batch, self._columns))

    def serialize(self, batch: pa.RecordBatch | pa.Table) -> ElementBatch:
        """Serialize one batch; rows are numbered on from the previous batches."""
        plan = self._plan_of(batch)
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
                    plan = self._plan_of(batch)  # mapping errors surface here, in order
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
