"""The storage interface behind a rate budget, and the sliding-log arithmetic stores share.

A store keeps, per bucket, a log of ``(timestamp, weight, token)`` entries and an optional
pause. ``try_acquire`` checks every window of every requested bucket and, only when all fit,
records the entries, in one atomic step; otherwise it records nothing and says how long to
wait. ``settle`` moves an acquisition's entries to the time its request completed.

Why settle: MoEngage counts a request at some instant between our sending it and its answer.
An entry stamped when the request *completed* stays in the log for a full window after the
server counted it, whatever the latency, so the sliding log on our side can never let a
server window (fixed or sliding, on any clock) see more than its limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["BucketRequest", "BudgetStore", "seconds_until_fits"]


@dataclass(frozen=True, slots=True)
class BucketRequest:
    """Spend ``cost`` units of one bucket.

    Attributes:
        key: Store key of the bucket (namespace and bucket name).
        cost: Units to spend (at least 1).
        windows: ``(limit, seconds)`` pairs in real seconds, already time-scaled.
    """

    key: str
    cost: int
    windows: tuple[tuple[int, float], ...]

    @property
    def longest(self) -> float:
        """The longest window, beyond which entries can be forgotten."""
        return max(seconds for _, seconds in self.windows)


@runtime_checkable
class BudgetStore(Protocol):
    """Where budget entries live: memory (one process), a SQLite file (one machine), Redis."""

    def try_acquire(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> float:
        """Record every request if all fit now; else record nothing.

        Args:
            clock: Current time in seconds since the epoch. Stores read it once they hold
                their lock, so entries are stamped in the order they were admitted.
            requests: Buckets to spend, all or nothing.
            token: Unique id of this acquisition, to ``settle`` it later.

        Returns:
            0.0 when recorded, else the seconds to wait before they could fit.
        """
        ...

    def settle(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> None:
        """Re-stamp an acquisition's entries with the current time (its request completed)."""
        ...

    def pause(self, keys: Iterable[str], until: float) -> None:
        """Admit nothing from these buckets before ``until`` (the server said to wait)."""
        ...

    def used(self, key: str, now: float, seconds: float) -> int:
        """Units spent in the bucket in the ``seconds`` before ``now``."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def seconds_until_fits(
    entries: Sequence[tuple[float, int]], now: float, request: BucketRequest
) -> float:
    """Seconds until ``request`` fits every window, given the bucket's log.

    Args:
        entries: ``(timestamp, weight)`` pairs in ascending time, at least those within the
            longest window.
        now: Current time.
        request: What to spend.

    Returns:
        0.0 when it fits now, else the time until enough old entries leave every window.
    """
    wait = 0.0
    for limit, seconds in request.windows:
        horizon = now - seconds
        inside = [(stamp, weight) for stamp, weight in entries if stamp > horizon]
        excess = sum(weight for _, weight in inside) + request.cost - limit
        if excess <= 0:
            continue
        freed = 0
        for stamp, weight in inside:
            freed += weight
            if freed >= excess:
                wait = max(wait, stamp + seconds - now)
                break
    return wait
