"""Limits that follow what MoEngage really allows: shrink on a 429, grow back slowly (AIMD).

A 429 for a request the budget admitted means MoEngage's budget for the workspace is smaller
than ours: another app may spend from it, or the account's limits are lower than documented.
Each such 429 multiplies the bucket's *factor* (the share of its configured limits the budget
uses) by ``decrease``, down to ``floor``; each window of the bucket that passes without one adds
``increase`` back, up to 1. Only a 429 for a request admitted after the last decrease counts:
requests already in flight were admitted under the larger limit and say nothing about the new
one, so a burst of concurrent 429s shrinks the limit once, not once per thread.

Factors are kept per process, in the :class:`RateBudget` object: each process sharing a store
adapts on the 429s it sees itself. That needs nothing from the stores, so it works the same with
memory, SQLite and Redis, and every process that meets the smaller budget shrinks its own use.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_ADAPTATION", "Adaptation", "LimitFactors"]


@dataclass(frozen=True, slots=True)
class Adaptation:
    """How limits adapt to 429s.

    Attributes:
        decrease: Factor applied to a bucket's share on a 429 (0.7 keeps 70 %).
        floor: Smallest share of the configured limits ever used.
        increase: Share of the configured limits given back per window without a 429.
    """

    decrease: float = 0.7
    floor: float = 0.05
    increase: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 < self.decrease < 1.0:
            raise ValueError(f"decrease must be within (0, 1), got {self.decrease}")
        if not 0.0 < self.floor <= 1.0:
            raise ValueError(f"floor must be within (0, 1], got {self.floor}")
        if not 0.0 < self.increase <= 1.0:
            raise ValueError(f"increase must be within (0, 1], got {self.increase}")


DEFAULT_ADAPTATION = Adaptation()
"""×0.7 per 429, never below 5 %, +5 % of the configured limits per clean window."""


@dataclass(slots=True)
class _Share:
    factor: float  # share of the configured limits at ``since``
    since: float  # growth counts whole windows from here: the last 429 or the pause after it
    decreased: float  # when it was last decreased


class LimitFactors:
    """The share of its configured limits each bucket may use now. Safe across threads.

    Args:
        adaptation: The constants; None never adapts (every share stays 1).
    """

    def __init__(self, adaptation: Adaptation | None = None) -> None:
        self.adaptation = adaptation
        self._lock = threading.Lock()
        self._shares: dict[str, _Share] = {}

    def __getstate__(self) -> dict[str, Any]:
        # A budget handed to another process starts from the configured limits.
        return {"adaptation": self.adaptation}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["adaptation"])  # type: ignore[misc]

    def factor(self, bucket: str, now: float, window: float) -> float:
        """The share of ``bucket``'s limits to use at ``now``.

        Args:
            bucket: Bucket name.
            now: Current time (seconds).
            window: Length of the bucket's shortest window in real seconds: the unit of
                growth.
        """
        with self._lock:
            return self._current(bucket, now, window)

    def _current(self, bucket: str, now: float, window: float) -> float:
        share = self._shares.get(bucket)
        if share is None or self.adaptation is None:
            return 1.0
        clean = max(math.floor((now - share.since) / window), 0) if window > 0 else 0
        if not clean:
            return share.factor
        factor = share.factor + self.adaptation.increase * clean
        if factor < 1.0:
            # Fold the growth in, so windows are counted from here on.
            share.factor, share.since = factor, share.since + clean * window
        else:
            del self._shares[bucket]
            return 1.0
        return factor

    def decrease(
        self,
        bucket: str,
        *,
        now: float,
        window: float,
        admitted_at: float,
        paused_until: float | None = None,
    ) -> bool:
        """Shrink ``bucket``'s share after a 429 for a request admitted at ``admitted_at``.

        Args:
            bucket: Bucket name.
            now: Current time.
            window: Length of the bucket's shortest window in real seconds.
            admitted_at: When the budget admitted the request answered 429.
            paused_until: When the pause the 429 asked for ends: windows spent paused send
                nothing, so they do not count as clean.

        Returns:
            True when the share shrank; False when adaptation is off or the request was
            admitted before the last decrease (it was admitted under the larger limit).
        """
        if self.adaptation is None:
            return False
        restart = max(now, paused_until or now)
        with self._lock:
            share = self._shares.get(bucket)
            if share is not None and admitted_at < share.decreased:
                # Not evidence about the smaller limit, but its window was not clean either.
                share.since = max(share.since, restart)
                return False
            current = self._current(bucket, now, window)
            factor = max(current * self.adaptation.decrease, self.adaptation.floor)
            self._shares[bucket] = _Share(factor, restart, now)
            return True
