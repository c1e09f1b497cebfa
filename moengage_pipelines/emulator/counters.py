"""Request counters per endpoint: totals, status classes and the statuses clients care about."""

from __future__ import annotations

import threading
from collections import Counter

__all__ = ["RequestCounters"]

_TRACKED = (400, 401, 403, 404, 405, 409, 413, 415, 429, 431)


class RequestCounters:
    """Thread-safe counts of requests and outcomes per endpoint."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, Counter[str]] = {}
        self._lost_answers: list[str] = []

    def record(self, endpoint: str, status: int | None, *, outcome: str | None = None) -> None:
        """Count one request.

        Args:
            endpoint: Endpoint name (``unmatched`` when no route answered).
            status: HTTP status sent, or None when no answer reached the client.
            outcome: ``reset`` or ``timeout`` when the answer was lost, ``fault`` when a
                fault replaced the answer.
        """
        with self._lock:
            counts = self._counts.setdefault(endpoint, Counter())
            counts["requests"] += 1
            if status is not None:
                counts[f"{status // 100}xx"] += 1
                if status in _TRACKED:
                    counts[str(status)] += 1
            if outcome:
                counts[outcome] += 1

    def answer_lost(self, request_id: str) -> None:
        """Note a request that was applied and whose answer the client never got."""
        with self._lock:
            self._lost_answers.append(request_id)

    def lost_answers(self) -> list[str]:
        """Request ids of requests applied whose answers were lost, in order."""
        with self._lock:
            return list(self._lost_answers)

    def snapshot(self) -> dict[str, dict[str, int]]:
        """Counts per endpoint plus a ``total`` entry."""
        with self._lock:
            result = {endpoint: dict(counts) for endpoint, counts in sorted(self._counts.items())}
            total: Counter[str] = Counter()
            for counts in self._counts.values():
                total.update(counts)
        result["total"] = dict(total)
        return result

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._counts.clear()
            self._lost_answers.clear()
