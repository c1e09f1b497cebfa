"""Body of one spending process in the SQLite budget test (kept light: spawn imports it)."""

from __future__ import annotations

import time
from typing import Any

from moengage_pipelines.api.ratebudget import RateBudget, SQLiteBudgetStore, Window


class _RecordingClock:
    """The real clock, remembering its last reading (the grant time after ``acquire``)."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self) -> float:
        self.last = time.time()
        return self.last


def spend(path: str, rounds: int, limit: int, seconds: float, queue: Any, start: Any) -> None:
    """Acquire one unit ``rounds`` times; report the grant stamps the store recorded."""
    clock = _RecordingClock()
    budget = RateBudget(
        SQLiteBudgetStore(path),
        namespace="shared",
        limits={"pool": [Window(limit, seconds)]},
        slack=0.0,
        clock=clock,
    )
    stamps = []
    start.wait(timeout=60)
    for _ in range(rounds):
        budget.acquire({"pool": 1})
        # the last reading is the grant time the store recorded, read under its lock
        stamps.append(clock.last)
    budget.close()
    queue.put(stamps)
