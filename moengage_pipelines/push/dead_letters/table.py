"""``DeadLetterWriter``: the dead-letter table in the results warehouse (see ``letter``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import pyarrow as pa

from moengage_pipelines.push.dead_letters.letter import DEAD_LETTER_SCHEMA, utc_now
from moengage_pipelines.warehouse import Warehouse, WarehouseError

__all__ = ["DeadLetterWriter"]

_REQUIRED = ("sync_name", "rule", "message")


class DeadLetterWriter:
    """Writes dead letters to a warehouse table (created on first write).

    Accepts this module's ``DeadLetter`` or any object with the same attributes
    (``row_number`` and ``recorded_at`` optional), or an Arrow table/batch holding at least
    ``sync_name``, ``rule`` and ``message``.

    Args:
        warehouse: Where the table lives (DuckDB or PostgreSQL).
        table: Table name (``"name"`` or ``"schema.name"``).
        chunk_rows: Letters per Arrow batch when writing an iterable of letters.
    """

    DEFAULT_TABLE: ClassVar[str] = "moengage_dead_letters"

    def __init__(
        self, warehouse: Warehouse, table: str = DEFAULT_TABLE, *, chunk_rows: int = 10_000
    ) -> None:
        self.warehouse = warehouse
        self.table = table
        self.chunk_rows = chunk_rows

    def __repr__(self) -> str:
        return f"DeadLetterWriter({self.warehouse.describe()!r}, table={self.table!r})"

    def write(self, letters: pa.Table | pa.RecordBatch | Iterable[Any]) -> int:
        """Append dead letters.

        Args:
            letters: Letter objects, or an Arrow table/batch of letters.

        Returns:
            The number of letters written.
        """
        return self.warehouse.append(self.table, self._reader(letters))

    def replace_partition(
        self,
        sync_name: str,
        partition: str | None,
        letters: pa.Table | pa.RecordBatch | Iterable[Any],
    ) -> int:
        """Replace a partition's letters with ``letters`` in one transaction.

        Every letter must belong to ``sync_name``/``partition`` (Arrow input may leave those
        columns out: they are filled in).

        Returns:
            The number of letters written.
        """
        where = {"sync_name": sync_name, "partition": partition}
        return self.warehouse.replace_rows(self.table, self._reader(letters, where), where)

    def clear_partition(
        self, sync_name: str, partition: str | None, source: str | None = None
    ) -> None:
        """Delete a partition's letters (call before a run that streams them with ``write``).

        Args:
            sync_name: The sync.
            partition: Its partition (None: the letters of runs without one).
            source: Only the letters of this source (``Source.describe()``); None clears
                those of every source.
        """
        where: dict[str, Any] = {"sync_name": sync_name, "partition": partition}
        if source is not None:
            where["source"] = source
        if not self.warehouse.table_exists(self.warehouse.table_name(self.table)):
            return
        self.warehouse.replace_rows(self.table, self._reader([], where), where)

    def count(self, sync_name: str | None = None, partition: str | None = None) -> int:
        """Count letters, optionally of one sync and/or one partition (0 if no table yet).

        ``partition=None`` means "any partition"; use ``count_unpartitioned`` for letters of
        runs without a partition.
        """
        where = {"sync_name": sync_name, "partition": partition}
        return self.warehouse.count(self.table, {k: v for k, v in where.items() if v is not None})

    def count_unpartitioned(self, sync_name: str) -> int:
        """Count the letters of ``sync_name`` written by runs without a partition."""
        return self.warehouse.count(self.table, {"sync_name": sync_name, "partition": None})

    def read(self, sync_name: str | None = None, partition: str | None = None) -> pa.Table:
        """Return letters (optionally of one sync and/or partition) in the order written."""
        name = self.warehouse.table_name(self.table)
        if not self.warehouse.table_exists(name):
            return DEAD_LETTER_SCHEMA.empty_table()
        where = {k: v for k, v in {"sync_name": sync_name, "partition": partition}.items() if v}
        clause, params = self.warehouse.where_clause(name, where)
        return self.warehouse.query(
            f'SELECT * FROM {name.sql}{clause} ORDER BY recorded_at, "row_number"', params or None
        )

    # -- conversion -------------------------------------------------------------------------

    def _reader(
        self,
        letters: pa.Table | pa.RecordBatch | Iterable[Any],
        fill: Mapping[str, Any] | None = None,
    ) -> pa.RecordBatchReader:
        if isinstance(letters, (pa.Table, pa.RecordBatch)):
            batches: Iterator[pa.RecordBatch] = iter(_conform(letters, fill or {}))
        else:
            batches = self._letter_batches(iter(letters))
        return pa.RecordBatchReader.from_batches(DEAD_LETTER_SCHEMA, batches)

    def _letter_batches(self, letters: Iterator[Any]) -> Iterator[pa.RecordBatch]:
        while chunk := list(itertools.islice(letters, self.chunk_rows)):
            now = utc_now()
            rows = [_letter_row(letter, now) for letter in chunk]
            yield pa.RecordBatch.from_pylist(rows, schema=DEAD_LETTER_SCHEMA)


def _letter_row(letter: Any, now: datetime) -> dict[str, Any]:
    if isinstance(letter, Mapping):
        get = letter.get
    else:

        def get(name: str, default: Any = None) -> Any:
            return getattr(letter, name, default)

    row = {name: get(name) for name in DEAD_LETTER_SCHEMA.names}
    missing = [name for name in _REQUIRED if not row[name]]
    if missing:
        raise WarehouseError(f"dead letter {letter!r} lacks {', '.join(missing)}")
    row["recorded_at"] = row["recorded_at"] or now
    for name in ("partition", "row_key", "column"):
        if row[name] is not None:
            row[name] = str(row[name])
    return row


def _conform(letters: pa.Table | pa.RecordBatch, fill: Mapping[str, Any]) -> list[pa.RecordBatch]:
    """Cast an Arrow table of letters to ``DEAD_LETTER_SCHEMA``, filling optional columns."""
    table = pa.Table.from_batches([letters]) if isinstance(letters, pa.RecordBatch) else letters
    unknown = [name for name in table.column_names if name not in DEAD_LETTER_SCHEMA.names]
    if unknown:
        raise WarehouseError(
            f"dead letters have unknown column(s) {unknown}; expected {DEAD_LETTER_SCHEMA.names}"
        )
    n = table.num_rows
    arrays = []
    for target in DEAD_LETTER_SCHEMA:
        if target.name in table.column_names:
            arrays.append(table.column(target.name).cast(target.type))
        elif target.name in fill:
            value = fill[target.name]
            arrays.append(pa.array([value] * n, type=target.type))
        elif target.name == "recorded_at":
            arrays.append(pa.array([utc_now()] * n, type=target.type))
        elif target.name in _REQUIRED:
            raise WarehouseError(f"dead letters lack the required column {target.name!r}")
        else:
            arrays.append(pa.nulls(n, type=target.type))
    return pa.Table.from_arrays(arrays, schema=DEAD_LETTER_SCHEMA).to_batches()
