"""Load campaign stats: one day at a time into the tidy and the wide stats tables.

Each day's rows are *replaced* in ``moengage_campaign_stats`` (tidy) and
``moengage_campaign_stats_daily`` (wide), so re-pulling a day (the nightly lookback re-pulls
the last 3, because conversions restate) never duplicates anything.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_TABLE
from moengage_pipelines.pull.issues import ShapeIssue, issue_examples
from moengage_pipelines.pull.stats.daily import daily_rows, platform_total_rows
from moengage_pipelines.pull.stats.fetch import StatsClient, fetch_day
from moengage_pipelines.pull.stats.normalize import StatRow
from moengage_pipelines.pull.stats.request import StatsOptions
from moengage_pipelines.pull.stats.selection import (
    CampaignSelection,
    campaign_parents,
    pulled_campaign_ids,
)
from moengage_pipelines.pull.stats.tables import (
    STATS_DAILY_SCHEMA,
    STATS_DAILY_TABLE,
    STATS_SCHEMA,
    STATS_TABLE,
)
from moengage_pipelines.warehouse import Warehouse

__all__ = ["CHART_METRICS", "DaySummary", "StatsReport", "pull_stats"]

logger = logging.getLogger(__name__)

CHART_METRICS = ("sent", "delivered", "clicks", "conversions")
"""The per-day totals reported (and charted) for each pulled day."""


@dataclass
class DaySummary:
    """One pulled day.

    Attributes:
        day: The day.
        rows: Tidy rows written.
        daily_rows: Wide rows written.
        requests: Stats requests sent.
        campaigns: Campaigns with numbers.
        campaigns_asked: Campaign ids asked for (None: MoEngage's active list).
        totals: Sum over campaigns of the all-platform numbers of the first attribution and
            metric type: sent, delivered, impressions, clicks, conversions, revenue. A child
            campaign (a periodic run) whose parent also has numbers that day is left out:
            the parent's numbers already include its runs.
    """

    day: date
    rows: int = 0
    daily_rows: int = 0
    requests: int = 0
    campaigns: int = 0
    campaigns_asked: int | None = None
    totals: dict[str, float] = field(default_factory=dict)


@dataclass
class StatsReport:
    """What a stats pull did, day by day.

    Attributes:
        days: One summary per day, ascending.
        issues: Parts of answers that could not be read (logged; never turned into numbers).
        notes: How the pull adapted, e.g. no pulled campaigns to take ids from.
        attribution_type: Attribution of the totals.
        metric_type: Metric type of the totals.
    """

    days: list[DaySummary] = field(default_factory=list)
    issues: list[ShapeIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attribution_type: str = ""
    metric_type: str = ""

    @property
    def rows(self) -> int:
        """Tidy rows written over all days."""
        return sum(day.rows for day in self.days)

    @property
    def daily_rows(self) -> int:
        """Wide rows written over all days."""
        return sum(day.daily_rows for day in self.days)

    @property
    def requests(self) -> int:
        """Stats requests sent over all days."""
        return sum(day.requests for day in self.days)

    def totals(self) -> dict[str, float]:
        """The chart metrics summed over every day."""
        return {
            metric: sum(day.totals.get(metric, 0.0) for day in self.days)
            for metric in CHART_METRICS
        }

    def to_metadata(self) -> dict[str, Any]:
        """Plain values for run metadata or a CLI summary."""
        return {
            "tables": [STATS_TABLE, STATS_DAILY_TABLE],
            "days": [day.day.isoformat() for day in self.days],
            "rows": self.rows,
            "daily_rows": self.daily_rows,
            "requests": self.requests,
            "campaigns": max((day.campaigns for day in self.days), default=0),
            "attribution_type": self.attribution_type,
            "metric_type": self.metric_type,
            "issues": len(self.issues),
            "issue_examples": issue_examples(self.issues),
            "notes": self.notes[:20],
            **self.totals(),
        }


def pull_stats(
    client: StatsClient,
    warehouse: Warehouse,
    days: Sequence[date],
    *,
    campaigns: CampaignSelection = "pulled",
    options: StatsOptions | None = None,
    now: datetime | None = None,
) -> StatsReport:
    """Pull campaign stats day by day and replace each day's rows.

    Each day is fetched completely before anything is written, so a failure leaves the day's
    previous rows as they were.

    Args:
        client: A ``MoEngageClient``.
        warehouse: Where the stats tables live.
        days: Days to pull (see
            :func:`~moengage_pipelines.pull.stats.selection.stats_days` for the lookback).
        campaigns: ``"pulled"``, ``"active"`` or explicit campaign ids (see
            :data:`~moengage_pipelines.pull.stats.selection.CampaignSelection`).
        options: Attribution types, metric types, batch size.
        now: ``pulled_at`` (default: now, UTC).

    Returns:
        What was pulled and written, per day.

    Raises:
        StatsNotEnabledError: MoEngage answered 403.
        StatsRequestError: MoEngage refused a request.
        ResponseShapeError: An answer had no ``data`` object.
    """
    options = options or StatsOptions()
    attribution, metric_type = options.combinations[0]
    report = StatsReport(attribution_type=attribution, metric_type=metric_type)
    parents = campaign_parents(warehouse)
    explicit = None if isinstance(campaigns, str) else list(dict.fromkeys(campaigns))
    if isinstance(campaigns, str) and campaigns not in ("pulled", "active"):
        raise ValueError(
            f"campaigns must be 'pulled', 'active' or a list of ids, got {campaigns!r}"
        )
    for day in sorted(set(days)):
        if explicit is not None:
            ids: list[str] | None = explicit
        elif campaigns == "pulled":
            ids = pulled_campaign_ids(warehouse, day)
            if ids is None:
                note = (
                    f"{day}: {CAMPAIGNS_TABLE} is missing or empty; asked MoEngage for the "
                    "campaigns active that day instead"
                )
                logger.warning("campaign stats %s", note)
                report.notes.append(note)
        else:
            ids = None
        fetched = fetch_day(client, day, ids, options, now=now)
        report.issues.extend(fetched.issues)
        wide = daily_rows(fetched.rows)
        _write_day(warehouse, day, fetched.rows, wide, explicit)
        report.days.append(
            DaySummary(
                day=day,
                rows=len(fetched.rows),
                daily_rows=len(wide),
                requests=fetched.requests,
                campaigns=len(fetched.campaigns),
                campaigns_asked=None if ids is None else len(ids),
                totals=_day_totals(wide, attribution, metric_type, parents),
            )
        )
        logger.info(
            "campaign stats %s: %d campaigns, %d rows, %d requests",
            day,
            len(fetched.campaigns),
            len(fetched.rows),
            fetched.requests,
        )
    return report


def _write_day(
    warehouse: Warehouse,
    day: date,
    rows: Sequence[StatRow],
    wide: Sequence[Mapping[str, Any]],
    explicit_ids: list[str] | None,
) -> None:
    tidy = pa.Table.from_pylist([row.as_record() for row in rows], schema=STATS_SCHEMA)
    daily = pa.Table.from_pylist(list(wide), schema=STATS_DAILY_SCHEMA)
    if explicit_ids is None:
        # The pull covered every campaign of the day: the day's rows are exactly these.
        warehouse.replace_rows(STATS_TABLE, tidy, where={"date": day})
        warehouse.replace_rows(STATS_DAILY_TABLE, daily, where={"date": day})
        return
    # Only some campaigns were asked for: replace just theirs, keep the others of the day.
    for campaign_id in explicit_ids:
        where = {"date": day, "campaign_id": campaign_id}
        warehouse.replace_rows(STATS_TABLE, _only(tidy, campaign_id), where=where)
        warehouse.replace_rows(STATS_DAILY_TABLE, _only(daily, campaign_id), where=where)


def _only(table: pa.Table, campaign_id: str) -> pa.Table:
    return table.filter(pc.equal(table.column("campaign_id"), campaign_id))


def _day_totals(
    wide: Sequence[Mapping[str, Any]],
    attribution: str,
    metric_type: str,
    parents: Mapping[str, str],
) -> dict[str, float]:
    chosen = [
        record
        for record in wide
        if record["attribution_type"] == attribution and record["metric_type"] == metric_type
    ]
    by_campaign: dict[str, list[Mapping[str, Any]]] = {}
    for record in chosen:
        by_campaign.setdefault(record["campaign_id"], []).append(record)
    totals = dict.fromkeys((*CHART_METRICS, "impressions", "revenue"), 0.0)
    for campaign_id, records in by_campaign.items():
        if parents.get(campaign_id) in by_campaign:
            continue
        for record in platform_total_rows(records):
            for metric in totals:
                totals[metric] += record.get(metric) or 0.0
    return totals
