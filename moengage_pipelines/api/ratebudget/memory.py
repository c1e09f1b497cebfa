"""A budget store held in memory: shared by the threads of one process only (tests, notebooks)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence

from moengage_pipelines.api.ratebudget.store import BucketRequest, seconds_until_fits

__all__ = ["MemoryBudgetStore"]


class MemoryBudgetStore:
    """In-process sliding logs guarded by a lock.

    Not shared between processes: use :class:`SQLiteBudgetStore` or :class:`RedisBudgetStore`
    when several processes push to one workspace.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # bucket key -> token -> [stamp, weight]
        self._logs: dict[str, dict[str, list[float]]] = {}
        self._paused: dict[str, float] = {}

    def try_acquire(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> float:
        """Record every request if all fit now; else return the seconds to wait."""
        with self._lock:
            now = clock()
            wait = 0.0
            for request in requests:
                log = self._logs.setdefault(request.key, {})
                horizon = now - request.longest
                for expired in [t for t, (stamp, _) in log.items() if stamp <= horizon]:
                    del log[expired]
                wait = max(wait, self._paused.get(request.key, 0.0) - now)
                if self._overflows(log, now, request):
                    entries = sorted((stamp, int(weight)) for stamp, weight in log.values())
                    wait = max(wait, seconds_until_fits(entries, now, request))
            if wait > 0:
                return wait
            for request in requests:
                self._logs[request.key][token] = [now, request.cost]
            return 0.0

    @staticmethod
    def _overflows(log: dict[str, list[float]], now: float, request: BucketRequest) -> bool:
        for limit, seconds in request.windows:
            horizon = now - seconds
            used = sum(weight for stamp, weight in log.values() if stamp > horizon)
            if used + request.cost > limit:
                return True
        return False

    def settle(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> None:
        """Re-stamp an acquisition's entries with the current time."""
        with self._lock:
            now = clock()
            for request in requests:
                entry = self._logs.get(request.key, {}).get(token)
                if entry is not None:
                    entry[0] = max(entry[0], now)

    def pause(self, keys: Iterable[str], until: float) -> None:
        """Admit nothing from these buckets before ``until``."""
        with self._lock:
            for key in keys:
                self._paused[key] = max(self._paused.get(key, 0.0), until)

    def used(self, key: str, now: float, seconds: float) -> int:
        """Units spent in the bucket in the ``seconds`` before ``now``."""
        with self._lock:
            entries = self._logs.get(key, {}).values()
            return int(sum(weight for stamp, weight in entries if stamp > now - seconds))

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return "MemoryBudgetStore()"
