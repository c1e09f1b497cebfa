"""One campaign-stats request: what to ask for, and MoEngage's limits checked before sending.

MoEngage answers one set of numbers per campaign for the whole ``start_date..end_date`` range,
so the pull asks for one day at a time. Each request is for one attribution type and one
metric type, at most 10 campaign ids, a ``limit`` of at most 10, and a range of at most 30
days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from moengage_pipelines.limits import (
    STATS_MAX_CAMPAIGN_IDS,
    STATS_MAX_PAGE_LIMIT,
    STATS_MAX_RANGE_DAYS,
)
from moengage_pipelines.pull.errors import StatsWindowError

__all__ = [
    "ATTRIBUTION_TYPES",
    "METRIC_TYPES",
    "StatsOptions",
    "batched",
    "check_window",
    "stats_payload",
]

ATTRIBUTION_TYPES = (
    "VIEW_THROUGH",
    "CLICK_THROUGH",
    "IN_SESSION",
    "TOTAL_CONVERSIONS",
    "CLICK_CONVERSIONS",
)
METRIC_TYPES = ("TOTAL", "UNIQUE")


@dataclass(frozen=True)
class StatsOptions:
    """Which numbers to pull.

    Attributes:
        attribution_types: Conversion attributions to request (each is its own request);
            default ``CLICK_THROUGH``, the conversion a marketer reads first.
        metric_types: ``TOTAL`` (every occurrence) and/or ``UNIQUE`` (distinct users).
        batch_size: Campaign ids per request, at most 10.
        page_limit: ``limit`` of each request, at most 10.
        max_pages: Safety stop for a server whose ``total_pages`` never ends.
    """

    attribution_types: Sequence[str] = ("CLICK_THROUGH",)
    metric_types: Sequence[str] = ("TOTAL",)
    batch_size: int = STATS_MAX_CAMPAIGN_IDS
    page_limit: int = STATS_MAX_PAGE_LIMIT
    max_pages: int = 1_000

    def __post_init__(self) -> None:
        _check_choices("attribution_types", self.attribution_types, ATTRIBUTION_TYPES)
        _check_choices("metric_types", self.metric_types, METRIC_TYPES)
        if not 1 <= self.batch_size <= STATS_MAX_CAMPAIGN_IDS:
            raise ValueError(
                f"batch_size must be between 1 and {STATS_MAX_CAMPAIGN_IDS}, got {self.batch_size}"
            )
        if not 1 <= self.page_limit <= STATS_MAX_PAGE_LIMIT:
            raise ValueError(
                f"page_limit must be between 1 and {STATS_MAX_PAGE_LIMIT}, got {self.page_limit}"
            )

    @property
    def combinations(self) -> list[tuple[str, str]]:
        """Every (attribution type, metric type) pair requested."""
        return [(a, m) for a in self.attribution_types for m in self.metric_types]


def _check_choices(name: str, given: Sequence[str], allowed: Sequence[str]) -> None:
    if isinstance(given, str) or not given:
        raise ValueError(f"{name} must be a non-empty list of {list(allowed)}")
    unknown = [value for value in given if value not in allowed]
    if unknown:
        raise ValueError(f"{name}: unknown value(s) {unknown}; expected some of {list(allowed)}")


def check_window(start: date, end: date) -> None:
    """Refuse a range MoEngage would refuse: reversed, or end more than 30 days after start.

    Raises:
        StatsWindowError: Naming both dates and the limit.
    """
    if end < start:
        raise StatsWindowError(f"stats range {start}..{end} ends before it starts")
    if (end - start).days > STATS_MAX_RANGE_DAYS:
        raise StatsWindowError(
            f"stats range {start}..{end} spans {(end - start).days} days; MoEngage allows at "
            f"most {STATS_MAX_RANGE_DAYS} between start_date and end_date. Split it (the pull "
            "asks one day at a time)."
        )


def batched(items: Sequence[str], size: int) -> list[list[str]]:
    """Split ids into consecutive batches of at most ``size``, dropping repeats."""
    unique = list(dict.fromkeys(items))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


def stats_payload(
    *,
    request_id: str,
    start: date,
    end: date,
    attribution_type: str,
    metric_type: str,
    campaign_ids: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = STATS_MAX_PAGE_LIMIT,
) -> dict[str, Any]:
    """Build one stats request body, checking MoEngage's limits first.

    Raises:
        StatsWindowError: If the range is reversed or longer than 30 days.
        ValueError: If there are more than 10 ids or ``limit`` is out of 1..10.
    """
    check_window(start, end)
    if campaign_ids is not None and len(campaign_ids) > STATS_MAX_CAMPAIGN_IDS:
        raise ValueError(
            f"{len(campaign_ids)} campaign ids in one stats request; MoEngage allows "
            f"{STATS_MAX_CAMPAIGN_IDS}"
        )
    if not 1 <= limit <= STATS_MAX_PAGE_LIMIT:
        raise ValueError(f"limit must be between 1 and {STATS_MAX_PAGE_LIMIT}, got {limit}")
    payload: dict[str, Any] = {
        "request_id": request_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "attribution_type": attribution_type,
        "metric_type": metric_type,
        "offset": offset,
        "limit": limit,
    }
    if campaign_ids is not None:
        payload["campaign_ids"] = list(campaign_ids)
    return payload
