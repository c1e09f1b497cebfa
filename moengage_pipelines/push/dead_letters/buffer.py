"""Dead letters buffered during a push and written in chunks; rejects counted in the report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import pyarrow as pa

from moengage_pipelines.push.dead_letters.letter import DeadLetter, row_json
from moengage_pipelines.push.report import PushReport

__all__ = ["DeadLetterBuffer", "DeadLetterSink"]

# Dead letters are written in chunks: one warehouse write per few thousand rejects.
_FLUSH_EVERY = 5_000


class DeadLetterSink(Protocol):
    """Where dead letters go (``moengage_pipelines.push.dead_letters.DeadLetterWriter``)."""

    def write(self, letters: Sequence[DeadLetter]) -> object:
        """Store dead letters."""
        ...


class DeadLetterBuffer:
    """Counts rejects in the report and writes dead letters to a sink in chunks.

    Args:
        report: Report whose reject counters are updated.
        sink: Where the letters go; None keeps only the counts.
        sync_name: Stored with each letter.
        partition: Stored with each letter.
        source: Stored with each letter: the source read (``Source.describe()``).
        run_id: Stored with each letter: the run writing it.
    """

    def __init__(
        self, report: PushReport, sink: DeadLetterSink | None, *, sync_name: str,
        partition: str | None, source: str | None = None, run_id: str | None = None,
    ) -> None:
        self.report = report
        self.sink = sink
        self.sync_name = sync_name
        self.partition = partition
        self.source = source
        self.run_id = run_id
        self._pending: list[DeadLetter] = []

    def add(
        self, *, rule: str, column: str | None, message: str, row: str, row_key: str | None,
        row_number: int, counted: bool = True,
    ) -> None:
        """Record one dead letter; ``counted`` also counts it as a rejected row."""
        if counted:
            self.report.reject(rule)
        if self.sink is None:
            return
        self._pending.append(
            DeadLetter(
                sync_name=self.sync_name,
                partition=self.partition,
                row_key=row_key,
                rule=rule,
                column=column,
                message=message,
                row=row,
                row_number=row_number,
                source=self.source,
                run_id=self.run_id,
            )
        )
        if len(self._pending) >= _FLUSH_EVERY:
            self.flush()

    def add_rows(
        self, batch: pa.RecordBatch, positions: Sequence[int], first_row: int, key_column: str,
        describe: Callable[[int], tuple[str, str | None, str]],
    ) -> None:
        """Reject rows of a source batch; ``describe(i)`` gives (rule, column, message)."""
        if not len(positions):
            return
        rows = batch.take(pa.array(positions, type=pa.int64())).to_pylist()
        for i, (position, row) in enumerate(zip(positions, rows, strict=True)):
            rule, column, message = describe(i)
            key = row.get(key_column)
            self.add(
                rule=rule,
                column=column,
                message=message,
                row=row_json(row),
                row_key=None if key is None else str(key),
                row_number=first_row + int(position),
            )

    def flush(self) -> None:
        """Write what is buffered."""
        if self.sink is not None and self._pending:
            self.sink.write(self._pending)
        self._pending = []
