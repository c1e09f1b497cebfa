"""A push's plan against the documented per-workspace budgets (``api.ratebudget.windows``).

Bulk import spends one unit per user or per event action, 60,000 of each a minute; catalog
requests spend one unit each, 100 a minute and 1,000 an hour. A sliding window of ``limit``
units per ``seconds`` sustains ``limit / seconds`` units a second, so ``units`` take
``units / limit * seconds`` under each window, and the slowest window sets the ETA. The time
of the requests themselves is left out: under the budget they wait on it, not on MoEngage.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from moengage_pipelines.api.ratebudget.windows import (
    CATALOG,
    TRANSITION_EVENTS,
    TRANSITION_USERS,
    Window,
    default_limits,
)
from moengage_pipelines.push.report import PushReport

__all__ = ["DAY_SECONDS", "PushPlan", "plan_counts", "plan_push"]

DAY_SECONDS = 86_400.0
_BUCKETS = {"users": TRANSITION_USERS, "events": TRANSITION_EVENTS, "catalog": CATALOG}


@dataclass(frozen=True)
class PushPlan:
    """What a push sends and how long the rate budget makes it take.

    Attributes:
        entity: ``users``, ``events`` or ``catalog``.
        rows_new, rows_changed, rows_unchanged, rows_retried: The diff's classification
            (all rows count as new without a diff).
        rows: Rows to send.
        bodies: Requests to send.
        bytes: Their bytes.
        units: What the budget counts: users, event actions, or catalog requests.
        windows: The budget's windows as ``(limit, seconds)``.
        eta_seconds: The time the slowest window needs for ``units``.
        requests_per_window: Requests per window of the tightest kind (e.g. a minute), at the
            pace the budget allows.
    """

    entity: str
    rows: int
    bodies: int
    bytes: int
    units: int
    windows: tuple[tuple[int, float], ...]
    eta_seconds: float
    requests_per_window: float
    rows_new: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    rows_retried: int = 0

    @property
    def fits_a_day(self) -> bool:
        """True when the push finishes within 24 hours at the budget."""
        return self.eta_seconds <= DAY_SECONDS

    @property
    def days_needed(self) -> int:
        """Whole days the push needs at the budget (0 when there is nothing to send)."""
        return math.ceil(self.eta_seconds / DAY_SECONDS) if self.units else 0

    def describe_eta(self) -> str:
        """The ETA as text, e.g. ``2 h 47 min`` (``under a minute`` for shorter ones)."""
        if self.eta_seconds < 60:
            return "under a minute"
        minutes = math.ceil(self.eta_seconds / 60)
        days, minutes = divmod(minutes, 1_440)
        hours, minutes = divmod(minutes, 60)
        parts = [f"{days} d"] * bool(days) + [f"{hours} h"] * bool(hours) + [f"{minutes} min"]
        return " ".join(parts)

    def lines(self) -> list[str]:
        """The plan as lines for a terminal."""
        shortest = min(seconds for _, seconds in self.windows) if self.windows else 60.0
        window = Window(1, shortest).describe().split("/", 1)[1]
        fits = "yes" if self.fits_a_day else f"no: {self.days_needed} days at the budget"
        return [
            f"plan:          {self.rows:,} rows to send ({self.rows_new:,} new, "
            f"{self.rows_changed:,} changed, {self.rows_retried:,} retried; "
            f"{self.rows_unchanged:,} unchanged)",
            f"  requests:    {self.bodies:,} ({self.bytes:,} bytes), "
            f"{self.requests_per_window:,.1f} per {window} at the budget",
            f"  budget:      {', '.join(Window(*w).describe() for w in self.windows)} "
            f"({self.units:,} {'requests' if self.entity == 'catalog' else self.entity})",
            f"  ETA:         {self.describe_eta()}; fits a day: {fits}",
        ]

    def to_metadata(self) -> dict[str, Any]:
        """Plain values, e.g. for Dagster metadata (keys prefixed ``plan_``)."""
        return {
            "plan_rows": self.rows, "plan_rows_new": self.rows_new,
            "plan_rows_changed": self.rows_changed, "plan_rows_unchanged": self.rows_unchanged,
            "plan_rows_retried": self.rows_retried, "plan_bodies": self.bodies,
            "plan_bytes": self.bytes, "plan_eta_seconds": round(self.eta_seconds, 1),
            "plan_requests_per_window": round(self.requests_per_window, 2),
            "plan_fits_a_day": self.fits_a_day, "plan_days_needed": self.days_needed,
        }


def plan_counts(
    entity: str,
    *,
    rows: int,
    bodies: int,
    bytes_: int = 0,
    limits: Mapping[str, Sequence[Window]] | None = None,
    **classified: int,
) -> PushPlan:
    """The plan of sending ``rows`` in ``bodies`` of ``entity``.

    Args:
        entity: ``users``, ``events`` (one action per row) or ``catalog``.
        rows: Rows to send.
        bodies: Requests they are packed in.
        bytes_: Their bytes.
        limits: Budgets per bucket (default: MoEngage's documented ones).
        **classified: ``rows_new``, ``rows_changed``, ``rows_unchanged``, ``rows_retried``.
    """
    windows = tuple((w.limit, w.seconds) for w in (limits or default_limits())[_BUCKETS[entity]])
    units = bodies if entity == "catalog" else rows
    eta = max((units / limit * seconds for limit, seconds in windows), default=0.0)
    shortest = min((seconds for _, seconds in windows), default=60.0)
    # A push shorter than one window sends all its requests within it.
    per_window = bodies / max(1.0, eta / shortest)
    return PushPlan(
        entity=entity, rows=rows, bodies=bodies, bytes=bytes_, units=units, windows=windows,
        eta_seconds=eta, requests_per_window=per_window, **classified,
    )


def plan_push(report: PushReport, limits: Mapping[str, Sequence[Window]] | None = None) -> PushPlan:
    """The plan of a dry run's report: what it packed, at the budget."""
    rows = report.rows_sent
    return plan_counts(
        report.entity, rows=rows, bodies=report.bodies, bytes_=report.bytes_sent, limits=limits,
        rows_new=report.rows_new if report.rows_unchanged or report.rows_new else rows,
        rows_changed=report.rows_changed, rows_unchanged=report.rows_unchanged,
        rows_retried=report.rows_retried,
    )
