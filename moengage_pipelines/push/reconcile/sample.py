"""A uniform random sample of the users a push sends, in one pass, memory bound by its size.

The source is read and serialized exactly as a push does (same mapping, same rules), so a
sampled user's attributes are the bytes that were sent; rows a rule rejects are not sampled.
The sample is drawn with reservoir sampling (Vitter's algorithm L): random numbers are drawn
only for the rows that enter the sample, so reading 10 million rows costs a few thousand
draws and no Python work per row. A customer id appearing again later in the source replaces
its sampled element, since the last row sent for a user is what MoEngage keeps.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.push.mapping import UserMapping
from moengage_pipelines.push.prepare.serializer import ElementSerializer

if TYPE_CHECKING:
    from moengage_pipelines.sources import Source, TimeWindow

__all__ = ["SentUser", "sample_sent_users"]


@dataclass(frozen=True, slots=True)
class SentUser:
    """One sampled user, as the push sends it.

    Attributes:
        customer_id: The customer id sent.
        attributes: The ``attributes`` object of its customer element.
        row: Source row number of the row it was sent from (0-based).
    """

    customer_id: str
    attributes: dict[str, Any]
    row: int


class _Reservoir:
    """Algorithm L: which positions of a stream enter a sample of ``size``."""

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self._rng = rng
        self.filled = 0
        self._seen = 0
        self._weight = 1.0
        self._next = 0

    def _uniform(self) -> float:
        return self._rng.random() or 5e-324  # (0, 1): log() must not see a zero

    def _schedule(self, after: int) -> None:
        skip = math.floor(math.log(self._uniform()) / math.log1p(-self._weight))
        self._next = after + skip + 1

    def choose(self, count: int) -> list[tuple[int, int]]:
        """Offer ``count`` more items; returns ``(slot, offset)`` for each one taken."""
        taken: list[tuple[int, int]] = []
        offset = 0
        while self.filled < self.size and offset < count:
            taken.append((self.filled, offset))
            self.filled += 1
            offset += 1
            if self.filled == self.size:
                self._weight = math.exp(math.log(self._uniform()) / self.size)
                self._schedule(self._seen + offset - 1)
        end = self._seen + count
        while self.filled == self.size and self._next < end:
            taken.append((self._rng.randrange(self.size), self._next - self._seen))
            self._weight *= math.exp(math.log(self._uniform()) / self.size)
            self._schedule(self._next)
        self._seen = end
        return taken


def _element(elements: pa.Array, index: int) -> dict[str, Any]:
    # Each element is the JSON text followed by the "," that joins it to the next.
    return orjson.loads(elements[index].as_py().rstrip(","))


def sample_sent_users(
    source: Source,
    mapping: UserMapping,
    *,
    size: int,
    seed: int | None = None,
    window: TimeWindow | None = None,
    batch_rows: int = 65_536,
) -> list[SentUser]:
    """Draw ``size`` users at random from what a push of ``source`` sends.

    Args:
        source: The push's source.
        mapping: The push's users mapping.
        size: How many users to sample (fewer when the source sends fewer).
        seed: Makes the sample repeatable; None draws a new one each time.
        window: The push's time window, if any.
        batch_rows: Rows read at a time.

    Returns:
        The sampled users, one per customer id, in source order.
    """
    if size < 1:
        raise ValueError(f"a sample needs at least 1 user, got {size}")
    reservoir = _Reservoir(size, random.Random(seed))
    slots: dict[int, SentUser] = {}
    with ElementSerializer(mapping, with_keys=True, parallel=1) as serializer:
        batches = source.iter_batches(window=window, batch_rows=batch_rows)
        for result in _serialized(serializer, batches):
            elements, keys = result.elements, result.keys
            accepted = np.flatnonzero(elements.is_valid().to_numpy(zero_copy_only=False))
            for slot, offset in reservoir.choose(len(accepted)):
                index = int(accepted[offset])
                element = _element(elements, index)
                slots[slot] = SentUser(
                    str(element["customer_id"]),
                    element.get("attributes") or {},
                    result.first_row + index,
                )
            _take_later_rows(slots, elements, keys, result.first_row)
    unique = {user.customer_id: user for user in slots.values()}
    return sorted(unique.values(), key=lambda user: user.row)


def _serialized(serializer: ElementSerializer, batches: Iterator[pa.RecordBatch]) -> Iterator[Any]:
    for batch in batches:
        if batch.num_rows:
            yield serializer.serialize(batch)


def _take_later_rows(
    slots: dict[int, SentUser], elements: pa.Array, keys: pa.Array | None, first_row: int
) -> None:
    """Replace sampled users whose customer id a later row of this batch sends again."""
    if keys is None or not slots:
        return
    sampled = pa.array(sorted({user.customer_id for user in slots.values()}), keys.type)
    hits = pc.fill_null(pc.and_(pc.is_in(keys, value_set=sampled), elements.is_valid()), False)
    for index in np.flatnonzero(hits.to_numpy(zero_copy_only=False)):
        row = first_row + int(index)
        element = _element(elements, int(index))
        customer_id = str(element["customer_id"])
        for slot, user in slots.items():
            if user.customer_id == customer_id and user.row < row:
                slots[slot] = SentUser(customer_id, element.get("attributes") or {}, row)
