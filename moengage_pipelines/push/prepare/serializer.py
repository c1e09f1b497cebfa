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

Before DuckDB reads a batch, its strings are checked to be UTF-8 (see ``invalid_utf8``);
rows holding other bytes are rejected (``invalid_utf8``) and shown repaired in dead letters.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import numpy as np
import pyarrow as pa

from moengage_pipelines.push.mapping import EntityMapping
from moengage_pipelines.push.prepare.invalid_utf8 import repair_utf8
from moengage_pipelines.push.prepare.plan import (
    BATCH_VIEW,
    SerializationPlan,
    compile_plan,
    filled_columns,
)
from moengage_pipelines.push.prepare.sql_text import Check

__all__ = ["ElementBatch", "ElementSerializer"]


@dataclass(frozen=True, slots=True)
class ElementBatch:
    """The serialized rows of one source batch.

    Attributes:
        elements: One value per row: the element's JSON text followed by ``,``, or null (and
            empty) for a rejected row, so that the bytes to send are contiguous.
        first_row: Source row number of the batch's first row.
        rejected: Positions (within the batch) of rejected rows.
        rejected_checks: The check each rejected row failed, aligned with ``rejected``.
        batch: The source batch as serialized: the input, or a copy whose values that were
            not UTF-8 are decoded lossily (readable in dead letters).
        keys: Row key (customer or item id) of each row as text, as sent, when asked for.
    """

    elements: pa.StringArray
    first_row: int
    rejected: np.ndarray
    rejected_checks: list[Check]
    batch: pa.RecordBatch | pa.Table
    keys: pa.StringArray | None = None

    @property
    def accepted(self) -> int:
        """Rows to send."""
        return len(self.elements) - self.elements.null_count



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
        mapping: EntityMapping,
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
        self._plans_lock = threading.Lock()
        self._plans: dict[
            tuple[pa.Schema, frozenset[str], frozenset[str]], SerializationPlan
        ] = {}
        self._columns = tuple(mapping.columns())
        self._rows_seen = 0

    def plan_for(
        self,
        schema: pa.Schema,
        filled: frozenset[str] = frozenset(),
        invalid_utf8: frozenset[str] = frozenset(),
    ) -> SerializationPlan:
        """The compiled plan of a schema (compiled once, then cached).

        Args:
            schema: Schema of the batches.
            filled: Mapped columns holding no null in them (see :func:`compile_plan`).
            invalid_utf8: Mapped columns with a marker of rows that were not UTF-8.
        """
        key = (schema, filled, invalid_utf8)
        with self._plans_lock:  # batches serialized at once share the plans
            plan = self._plans.get(key)
            if plan is None:
                plan = compile_plan(
                    self.mapping, schema, now=self.now, with_keys=self.with_keys,
                    filled=filled, invalid_utf8=invalid_utf8,
                )
                self._plans[key] = plan
        return plan

    def _number_rows(self, batch: pa.RecordBatch | pa.Table) -> int:
        """The source row number of the batch's first row (batches are numbered in order)."""
        first = self._rows_seen
        self._rows_seen += batch.num_rows
        return first

    def serialize(self, batch: pa.RecordBatch | pa.Table) -> ElementBatch:
        """Serialize one batch; rows are numbered on from the previous batches."""
        return self._run(batch, self._number_rows(batch))

    def serialize_stream(
        self, batches: Iterable[pa.RecordBatch]
    ) -> Iterator[tuple[pa.RecordBatch, ElementBatch]]:
        """Serialize batches ``parallel`` at a time; yield ``(batch, result)`` in order.

        The batch yielded is the one serialized (``ElementBatch.batch``): values that were
        not UTF-8 are decoded lossily in it. At most ``parallel`` batches are read ahead, so
        memory stays bounded.
        """
        if self.parallel == 1:
            for batch in batches:
                result = self.serialize(batch)
                yield result.batch, result
            return
        in_flight: deque[Future[ElementBatch]] = deque()
        with ThreadPoolExecutor(self.parallel, thread_name_prefix="moengage-serialize") as pool:
            try:
                for batch in batches:
                    # Mapping errors surface with the results, in order.
                    in_flight.append(pool.submit(self._run, batch, self._number_rows(batch)))
                    if len(in_flight) >= self.parallel:
                        result = in_flight.popleft().result()
                        yield result.batch, result
                while in_flight:
                    result = in_flight.popleft().result()
                    yield result.batch, result
            finally:
                for future in in_flight:
                    future.cancel()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            self._local.cursor = cursor
            with self._cursors_lock:
                self._cursors.append(cursor)
        return cursor

    def _run(self, batch: pa.RecordBatch | pa.Table, first: int) -> ElementBatch:
        # In the worker thread: validating the strings takes a pass over them.
        repair = repair_utf8(batch, self._columns)
        # Columns without nulls are common; a plan that knows them does less work per row.
        filled = filled_columns(repair.batch, self._columns)
        plan = self.plan_for(repair.marked.schema, filled, repair.columns)
        cursor = self._cursor()
        cursor.register(BATCH_VIEW, repair.marked)
        try:
            result = cursor.sql(plan.sql).to_arrow_table()
        finally:
            cursor.unregister(BATCH_VIEW)
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
            batch=repair.batch, keys=keys,
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
