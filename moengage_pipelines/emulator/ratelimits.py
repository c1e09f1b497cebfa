"""Rate limits per workspace, shared by every client, with usage kept per window.

Windows are fixed and aligned to the (scaled) epoch: a one-minute window starts on a whole
minute. Both of MoEngage's readings of ``x-ratelimit-reset`` (epoch seconds when the window
resets; seconds left in a 60-second window) describe such windows.

``time_scale`` shrinks every window: at 60, a minute's budget refills every real second, so
a test spends a minute's budget in about a second.

A request is admitted only when every window of its pool has room for its whole weight;
a refused request spends nothing. Each window records both what was admitted and what was
asked for, so tests can prove a client never asked for more than a budget allowed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

from moengage_pipelines.emulator.settings import EmulatorSettings, RateLimit

__all__ = ["RateDecision", "RateLimiter", "WindowUsage"]


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of asking a pool for units.

    Attributes:
        allowed: Whether the request is admitted.
        limit: Limit of the most constrained window.
        remaining: Units left in that window after this request.
        reset_at: Real epoch seconds when that window ends.
        period: That window's length in emulated seconds.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_at: float
    period: float


@dataclass(slots=True)
class WindowUsage:
    """Usage of one window of one pool."""

    admitted: int = 0
    requested: int = 0
    refused_requests: int = 0


class RateLimiter:
    """Fixed-window budgets per (workspace, pool), thread-safe.

    Args:
        settings: Limits per pool, ``time_scale`` and whether limits are enforced.
        clock: Real time source.
    """

    def __init__(self, settings: EmulatorSettings, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        # (workspace, pool, period) -> {window index: usage}
        self._usage: dict[tuple[str, str, float], dict[int, WindowUsage]] = {}

    def windows_of(self, pool: str) -> tuple[RateLimit, ...]:
        """The configured windows of a pool."""
        return self._settings.limits_of(pool)

    def _length(self, period: float) -> float:
        return period / self._settings.time_scale

    def acquire(self, workspace: str, pool: str, weight: int = 1) -> RateDecision:
        """Spend ``weight`` units of a pool if every window has room.

        Args:
            workspace: Workspace whose budget is spent.
            pool: Pool name (see ``DEFAULT_RATE_LIMITS``).
            weight: Units asked for (elements or requests).

        Returns:
            The decision, describing the most constrained window.
        """
        return self.acquire_many(workspace, ((pool, weight),))

    def acquire_many(self, workspace: str, spends: tuple[tuple[str, int], ...]) -> RateDecision:
        """Spend several pools at once, all or nothing (bulk import spends users and events).

        Pools asked for zero units are left alone unless every weight is zero.

        Returns:
            The decision, describing the most constrained window of all pools.
        """
        wanted = [(pool, weight) for pool, weight in spends if weight > 0] or list(spends[:1])
        now = self._clock()
        with self._lock:
            slots: list[tuple[RateLimit, WindowUsage, float, int]] = []
            for pool, weight in wanted:
                for window in self.windows_of(pool):
                    length = self._length(window.period)
                    index = math.floor(now / length)
                    per_window = self._usage.setdefault((workspace, pool, window.period), {})
                    usage = per_window.get(index)
                    if usage is None:
                        usage = per_window[index] = WindowUsage()
                    slots.append((window, usage, (index + 1) * length, weight))
            allowed = not self._settings.rate_limits_enabled or all(
                usage.admitted + weight <= window.limit for window, usage, _, weight in slots
            )
            for _, usage, _, weight in slots:
                usage.requested += weight
                if allowed:
                    usage.admitted += weight
                else:
                    usage.refused_requests += 1
            # Report the window with the least room left (as a fraction of its limit).
            window, usage, reset_at, _ = min(
                slots, key=lambda slot: (slot[0].limit - slot[1].admitted) / max(slot[0].limit, 1)
            )
            remaining = max(window.limit - usage.admitted, 0)
        return RateDecision(allowed, window.limit, remaining, reset_at, window.period)

    def headers(self, decision: RateDecision) -> tuple[tuple[str, str], ...]:
        """``x-ratelimit-*`` headers (and ``Retry-After`` on refusal when configured)."""
        now = self._clock()
        seconds_left = max(decision.reset_at - now, 0.0)
        if self._settings.ratelimit_reset == "epoch":
            reset = _number(decision.reset_at, self._settings.time_scale)
        else:
            reset = _number(seconds_left, self._settings.time_scale)
        headers = [
            ("x-ratelimit-limit", str(decision.limit)),
            ("x-ratelimit-remaining", str(decision.remaining)),
            ("x-ratelimit-reset", reset),
        ]
        if not decision.allowed and self._settings.retry_after:
            headers.append(("retry-after", _number(seconds_left, self._settings.time_scale)))
        return tuple(headers)

    def usage(self, workspace: str | None = None) -> dict[str, dict]:
        """Usage per pool and window length.

        Returns:
            ``{"<workspace>/<pool>/<period>s": {"workspace", "pool", "limit", "period",
            "windows", "max_admitted", "max_requested", "refused_requests",
            "per_window": {index: {"admitted", "requested", "refused_requests"}}}}``.
            ``max_requested <= limit`` proves no window was ever asked for more than it holds.
        """
        with self._lock:
            report: dict[str, dict] = {}
            for (ws, pool, period), per_window in sorted(self._usage.items()):
                if workspace is not None and ws != workspace:
                    continue
                limit = next((w.limit for w in self.windows_of(pool) if w.period == period), 0)
                report[f"{ws}/{pool}/{period:g}s"] = {
                    "workspace": ws,
                    "pool": pool,
                    "limit": limit,
                    "period": period,
                    "windows": len(per_window),
                    "max_admitted": max((u.admitted for u in per_window.values()), default=0),
                    "max_requested": max((u.requested for u in per_window.values()), default=0),
                    "refused_requests": sum(u.refused_requests for u in per_window.values()),
                    "per_window": {
                        index: {
                            "admitted": u.admitted,
                            "requested": u.requested,
                            "refused_requests": u.refused_requests,
                        }
                        for index, u in sorted(per_window.items())
                    },
                }
            return report

    def reset(self) -> None:
        """Forget all usage."""
        with self._lock:
            self._usage.clear()


def _number(value: float, time_scale: float) -> str:
    # Whole seconds at real speed (what MoEngage sends); with a time scale, windows are
    # fractions of a second, so the value keeps milliseconds.
    if time_scale == 1.0:
        return str(math.ceil(value))
    return f"{value:.3f}"
