"""Source batches -> validated, serialized elements; rejected rows -> dead letters.

The first stages of every push, shared by bulk import and catalog pushes. Memory stays
bounded by one source batch: elements are handed on batch by batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pyarrow as pa

from moengage_pipelines.push.dead_letters import DeadLetter
from moengage_pipelines.push.packing import blank_rows
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.push.serialization import ElementSerializer
from moengage_pipelines.push.validation import Rule, row_json

if TYPE_CHECKING:
    from moengage_pipelines.sources.base import Source, TimeWindow

__all__ = [
    "DeadLetterBuffer", "DeadLetterSink", "ValidElements", "element_sizes", "validated_elements",
]

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
    """

    def __init__(
        self, report: PushReport, sink: DeadLetterSink | None, *, sync_name: str,
        partition: str | None,
    ) -> None:
        self.report = report
        self.sink = sink
        self.sync_name = sync_name
        self.partition = partition
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


@dataclass(frozen=True, slots=True)
class ValidElements:
    """The elements of one source batch, ready to pack.

    Attributes:
        elements: One value per source row: its element followed by ``,``, or null for a
            row not to send.
        first_row: Source row number of the batch's first row.
        keys: Row key of each row, when the serializer returns keys.
        batch: The source batch (to build dead letters for later rejects).
    """

    elements: pa.StringArray
    first_row: int
    keys: pa.StringArray | None
    batch: pa.RecordBatch

    @property
    def accepted(self) -> int:
        """Rows to send."""
        return len(self.elements) - self.elements.null_count

    def without(self, drop: np.ndarray) -> ValidElements:
        """The same elements with the rows where ``drop`` is true made null (not sent)."""
        return ValidElements(
            elements=blank_rows(self.elements, drop),
            first_row=self.first_row,
            keys=self.keys,
            batch=self.batch,
        )


def validated_elements(
    source: Source,
    serializer: ElementSerializer,
    *,
    window: TimeWindow | None,
    batch_rows: int,
    max_element_bytes: int,
    report: PushReport,
    letters: DeadLetterBuffer,
    on_batch: Callable[[], None] | None = None,
) -> Iterator[ValidElements]:
    """Read, validate and serialize the source batch by batch.

    Rows failing a rule, and rows whose element alone exceeds ``max_element_bytes``
    (``row_too_large``), become dead letters; the rest are yielded.
    """
    key_column = serializer.mapping.row_key_column
    batches = (
        batch
        for batch in source.iter_batches(window=window, batch_rows=batch_rows)
        if batch.num_rows
    )
    for batch, serialized in serializer.serialize_stream(batches):
        report.rows_read += batch.num_rows
        checks = serialized.rejected_checks
        letters.add_rows(
            batch,
            serialized.rejected.tolist(),
            serialized.first_row,
            key_column,
            lambda i, checks=checks: (checks[i].rule, checks[i].column, checks[i].message),
        )
        valid = ValidElements(
            elements=serialized.elements,
            first_row=serialized.first_row,
            keys=serialized.keys,
            batch=batch,
        )
        valid = _drop_oversized(valid, max_element_bytes, letters, key_column)
        report.rows_valid += valid.accepted
        if valid.accepted:
            yield valid
        if on_batch is not None:
            on_batch()
    letters.flush()


def element_sizes(elements: pa.Array) -> np.ndarray:
    """Bytes of each element without its separator (-1 for null elements)."""
    offsets_type = np.int64 if pa.types.is_large_string(elements.type) else np.int32
    offsets = np.frombuffer(elements.buffers()[1], dtype=offsets_type)
    offsets = offsets[elements.offset : elements.offset + len(elements) + 1]
    return np.diff(offsets).astype(np.int64) - 1


def _drop_oversized(
    valid: ValidElements,
    max_element_bytes: int,
    letters: DeadLetterBuffer,
    key_column: str,
) -> ValidElements:
    if not len(valid.elements):
        return valid
    sizes = element_sizes(valid.elements)
    oversized = sizes > max_element_bytes
    if not oversized.any():
        return valid
    positions = np.flatnonzero(oversized)
    big = sizes[positions].tolist()
    letters.add_rows(
        valid.batch,
        positions.tolist(),
        valid.first_row,
        key_column,
        lambda i: (
            Rule.ROW_TOO_LARGE,
            None,
            f"the row's element is {big[i]:,} bytes; a body holds at most "
            f"{max_element_bytes:,} bytes of elements",
        ),
    )
    return valid.without(oversized)
