"""Elements -> request bodies as large as allowed, measured on the exact bytes sent.

Every element arrives followed by a ``,``, contiguous in one Arrow buffer. A body is then
``prefix + buffer[start:end - 1] + suffix`` (the last separator dropped), and its size is
known from the offsets alone: ``len(prefix) + offsets[end] - offsets[start] - 1 + len(suffix)``.
Boundaries are found with a binary search over the cumulative offsets (one per body, not per
row), greedily filling each body, which is optimal for an ordered stream. The unfilled tail
of a batch is carried into the next batch so that batch boundaries cost nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from moengage_pipelines.limits import CATALOG_MAX_BYTES, CATALOG_MAX_ITEMS, TRANSITION_MAX_BYTES
from moengage_pipelines.push.pack.body import Body, Endpoint

__all__ = [
    "CATALOG_PREFIX",
    "SUFFIX",
    "TRANSITION_PREFIX",
    "BodyPacker",
    "catalog_packer",
    "pack_elements",
    "transition_packer",
]


TRANSITION_PREFIX = b'{"type":"transition","elements":['
CATALOG_PREFIX = b'{"items":['
SUFFIX = b"]}"
SEPARATOR = b","


@dataclass(slots=True)
class _Pending:
    """Elements carried from one batch to the next (still with their separators)."""

    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    count: int = 0
    first_row: int = 0


class BodyPacker:
    """Packs a stream of separator-terminated elements into bodies.

    Args:
        endpoint: Endpoint of the bodies (``transition`` or ``catalog_items``).
        prefix: Bytes before the first element.
        suffix: Bytes after the last element.
        max_bytes: Largest body, in bytes on the wire.
        max_elements: Most elements in one body, if the endpoint caps it.
        kind: What each element counts as in ``Body``: ``users``, ``events`` or ``items``.
    """

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        prefix: bytes,
        suffix: bytes,
        max_bytes: int,
        max_elements: int | None = None,
        kind: str,
    ) -> None:
        if kind not in {"users", "events", "items"}:
            raise ValueError(f"kind must be users, events or items, not {kind!r}")
        self.endpoint = endpoint
        self.prefix = prefix
        self.suffix = suffix
        self.max_bytes = max_bytes
        self.max_elements = max_elements or np.iinfo(np.int64).max
        self.kind = kind
        # Room for element bytes including their separators (the body drops the last one).
        self.capacity = max_bytes - len(prefix) - len(suffix) + len(SEPARATOR)
        if self.capacity <= len(SEPARATOR):
            raise ValueError(f"max_bytes {max_bytes} leaves no room for an element")
        self._pending = _Pending()
        self._bodies = 0

    def max_element_bytes(self) -> int:
        """The largest element (without separator) that fits in a body alone."""
        return self.capacity - len(SEPARATOR)

    def _body(self, chunks: Sequence[bytes | memoryview], count: int, first_row: int) -> Body:
        # The last chunk ends with a separator that must not be sent.
        *head, last = chunks
        payload = b"".join((self.prefix, *head, last[: -len(SEPARATOR)], self.suffix))
        seq, self._bodies = self._bodies, self._bodies + 1
        return Body(self.endpoint, payload, first_row=first_row, seq=seq, **{self.kind: count})

    def pack(self, elements: pa.Array, first_row: int = 0) -> Iterator[Body]:
        """Add a batch of elements; yield every body that is full.

        Args:
            elements: String or binary array, one value per source row; each value ends with
                ``,``. Null values are rows not to send (rejected); they must be empty, so
                that the bytes of the rows to send stay contiguous.
            first_row: Source row number of ``elements[0]``.

        Raises:
            ValueError: If an element is larger than a body allows (reject those first).
        """
        count = len(elements)
        if count == 0:
            return
        offsets_buffer, data_buffer = elements.buffers()[1], elements.buffers()[2]
        offsets = np.frombuffer(offsets_buffer, dtype=_offset_dtype(elements.type))
        offsets = offsets[elements.offset : elements.offset + count + 1].astype(np.int64)
        data = memoryview(data_buffer) if data_buffer is not None else memoryview(b"")
        largest = int(np.diff(offsets).max())
        if largest > self.capacity:
            raise ValueError(
                f"an element of {largest - 1} bytes does not fit a body of "
                f"{self.max_bytes} bytes"
            )
        if elements.null_count:
            valid = elements.is_valid().to_numpy(zero_copy_only=False)
            if np.diff(offsets)[~valid].any():
                raise ValueError("null elements must be empty (see blank_rows)")
            # valid_before[i]: elements to send among the first i.
            valid_before = np.concatenate(([0], np.cumsum(valid, dtype=np.int64)))
        else:
            valid_before = None

        def sent_between(start: int, end: int) -> int:
            if valid_before is None:
                return end - start
            return int(valid_before[end] - valid_before[start])

        def first_sent_row(start: int) -> int:
            if valid_before is None:
                return first_row + start
            # The first index at or after ``start`` whose element is sent.
            return first_row + int(np.searchsorted(valid_before, valid_before[start] + 1)) - 1

        def last_index(start: int, room: int, most: int) -> int:
            """End of the longest run from ``start`` within ``room`` bytes, ``most`` sent."""
            end = int(np.searchsorted(offsets, offsets[start] + room, side="right")) - 1
            if most < end - start:
                if valid_before is None:
                    end = start + most
                else:
                    end = min(end, int(np.searchsorted(
                        valid_before, valid_before[start] + most, side="right")) - 1)
            return end

        start = 0
        pending = self._pending
        if pending.count:
            end = min(last_index(0, self.capacity - pending.size,
                                 self.max_elements - pending.count), count)
            size = int(offsets[end] - offsets[0])
            if end >= count:
                # Everything fits with what is pending: keep accumulating.
                if size:
                    pending.chunks.append(bytes(data[offsets[0] : offsets[count]]))
                pending.size += size
                pending.count += sent_between(0, count)
                return
            chunks: list[bytes | memoryview] = list(pending.chunks)
            if size:
                chunks.append(data[offsets[0] : offsets[end]])
            yield self._body(chunks, pending.count + sent_between(0, end), pending.first_row)
            self._pending = pending = _Pending()
            start = end
        while start < count:
            end = min(last_index(start, self.capacity, self.max_elements), count)
            sent = sent_between(start, end)
            if end >= count:
                if sent:
                    pending.chunks = [bytes(data[offsets[start] : offsets[count]])]
                    pending.size = int(offsets[count] - offsets[start])
                    pending.count = sent
                    pending.first_row = first_sent_row(start)
                return
            yield self._body([data[offsets[start] : offsets[end]]], sent, first_sent_row(start))
            start = end

    def flush(self) -> Iterator[Body]:
        """Yield the last, partly filled body, if any."""
        pending = self._pending
        if pending.count:
            yield self._body(pending.chunks, pending.count, pending.first_row)
        self._pending = _Pending()




def _offset_dtype(data_type: pa.DataType) -> type[np.signedinteger]:
    if pa.types.is_large_string(data_type) or pa.types.is_large_binary(data_type):
        return np.int64
    if pa.types.is_string(data_type) or pa.types.is_binary(data_type):
        return np.int32
    raise TypeError(f"elements must be a string or binary array, not {data_type}")


def transition_packer(kind: str, max_body_bytes: int = TRANSITION_MAX_BYTES) -> BodyPacker:
    """A packer for bulk-import bodies ``{"type":"transition","elements":[...]}``."""
    return BodyPacker(
        "transition",
        prefix=TRANSITION_PREFIX,
        suffix=SUFFIX,
        max_bytes=max_body_bytes,
        kind=kind,
    )


def catalog_packer(
    max_body_bytes: int = CATALOG_MAX_BYTES, max_items: int = CATALOG_MAX_ITEMS
) -> BodyPacker:
    """A packer for catalog item bodies ``{"items":[...]}`` (≤ 5 MB, ≤ 50 items)."""
    return BodyPacker(
        "catalog_items",
        prefix=CATALOG_PREFIX,
        suffix=SUFFIX,
        max_bytes=max_body_bytes,
        max_elements=max_items,
        kind="items",
    )


def pack_elements(elements: Sequence[bytes], packer: BodyPacker) -> list[Body]:
    """Pack a list of elements (JSON bytes, no separators) in one go; for tests and small uses.

    Raises:
        ValueError: If one element alone is larger than a body.
    """
    array = pa.array([element + SEPARATOR for element in elements], type=pa.binary())
    return [*packer.pack(array), *packer.flush()]
