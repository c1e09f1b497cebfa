"""Source batches -> validated, serialized elements; rejected rows -> dead letters.

The first stages of every push, shared by bulk import and catalog pushes. Memory stays
bounded by one source batch: elements are handed on batch by batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.push.dead_letters import DeadLetterBuffer
from moengage_pipelines.push.prepare.rules import Rule
from moengage_pipelines.push.prepare.serializer import ElementSerializer
from moengage_pipelines.push.report import PushReport

if TYPE_CHECKING:
    from moengage_pipelines.sources import Source, TimeWindow

__all__ = ["ValidElements", "blank_rows", "element_sizes", "validated_elements"]


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

def blank_rows(elements: pa.Array, drop: np.ndarray) -> pa.Array:
    """The same elements with the rows where ``drop`` is true turned into empty nulls.

    Compute kernels may keep a null slot's old bytes; the packer needs them gone.
    """
    keep = ~np.asarray(drop, dtype=bool)
    blanked = pc.if_else(pa.array(keep), elements, pa.scalar("", elements.type))
    if blanked.offset:
        blanked = pa.concat_arrays([blanked])  # a copy starting at bit 0 of its buffers
    if elements.null_count:
        keep &= elements.is_valid().to_numpy(zero_copy_only=False)
    validity = pa.py_buffer(np.packbits(keep, bitorder="little"))
    return pa.Array.from_buffers(
        blanked.type,
        len(blanked),
        [validity, blanked.buffers()[1], blanked.buffers()[2]],
        null_count=int(len(keep) - keep.sum()),
    )
