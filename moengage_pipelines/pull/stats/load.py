"""Load campaign stats: one day at a time into the tidy table and the daily facts.

Each day's rows are *replaced* in ``moengage_campaign_stats`` (tidy) and
``moengage_campaign_stats_daily`` (daily facts), so re-pulling a day (the nightly lookback re-pulls
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

from moengage_pipelines.errors import MoEngageError
from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_TABLE
from moengage_pipelines.pull.errors import PullError, StatsDayError
from moengage_pipelines.pull.issues import ShapeIssue, issue_examples
from moengage_pipelines.pull.stats.daily import daily_rows
from moengage_pipelines.pull.stats.fetch import DayStats, StatsClient, fetch_day
from moengage_pipelines.pull.stats.model import (
    campaign_channels,
    prepare_stats_tables,
    refresh_summable_view,
)
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
        daily_rows: Daily fact rows written.
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
        unknown_campaign_ids: Ids asked for explicitly that MoEngage returned no numbers
            for on any pulled day (not campaigns of the workspace, or API-triggered ones).
        failed_day: The day a failure stopped the pull at (None: the pull completed).
    """

    days: list[DaySummary] = field(default_factory=list)
    issues: list[ShapeIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown_campaign_ids: list[str] = field(default_factory=list)
    failed_day: date | None = None
    attribution_type: str = ""
    metric_type: str = ""

    @property
    def rows(self) -> int:
        """Tidy rows written over all days."""
        return sum(day.rows for day in self.days)

    @property
    def daily_rows(self) -> int:
        """Daily fact rows written over all days."""
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
            "unknown_campaign_ids": self.unknown_campaign_ids,
            "committed_days": [day.day.isoformat() for day in self.days],
            "failed_day": self.failed_day.isoformat() if self.failed_day else None,
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
    previous rows as they were. Tables written by an older layout are migrated first, and the
    summable view is created when missing (see :mod:`moengage_pipelines.pull.stats.model`).

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
        StatsDayError: A day failed; the message names it, the days committed before it and
            the days not written. Its cause is the error itself: ``StatsNotEnabledError``
            (403), ``StatsRequestError`` (a refused request), ``ResponseShapeError`` (no
            ``data`` object), or an HTTP or warehouse error.
    """
    options = options or StatsOptions()
    attribution, metric_type = options.combinations[0]
    report = StatsReport(attribution_type=attribution, metric_type=metric_type)
    if isinstance(campaigns, str) and campaigns not in ("pulled", "active"):
        raise ValueError(
            f"campaigns must be 'pulled', 'active' or a list of ids, got {campaigns!r}"
        )
    explicit = None if isinstance(campaigns, str) else list(dict.fromkeys(campaigns))
    parents = campaign_parents(warehouse)
    channels = campaign_channels(warehouse)
    answered: set[str] = set()
    ordered = sorted(set(days))
    for day in ordered:
        ids = explicit if explicit is not None else _day_ids(warehouse, day, campaigns, report)
        writing = False
        try:
            fetched = fetch_day(client, day, ids, options, now=now)
            wide = daily_rows(fetched.rows, channels)
            writing = True
            if not report.days:  # the first write: tables as declared, older ones migrated
                report.notes.extend(prepare_stats_tables(warehouse))
            _write_day(warehouse, day, fetched.rows, wide, explicit)
        except MoEngageError as exc:
            report.failed_day = day
            raise _day_failed(exc, day, ordered, report, writing=writing) from exc
        answered.update(fetched.campaigns)
        report.issues.extend(fetched.issues)
        report.days.append(_summary(day, fetched, wide, ids, parents, report))
        logger.info(
            "campaign stats %s: %d campaigns, %d rows, %d requests",
            day,
            len(fetched.campaigns),
            len(fetched.rows),
            fetched.requests,
        )
    refresh_summable_view(warehouse)
    if explicit is not None and ordered:
        _report_unknown(report, [i for i in explicit if i not in answered], ordered)
    return report


def _day_ids(
    warehouse: Warehouse, day: date, campaigns: CampaignSelection, report: StatsReport
) -> list[str] | None:
    if campaigns != "pulled":
        return None
    ids = pulled_campaign_ids(warehouse, day)
    if ids is None:
        note = (
            f"{day}: {CAMPAIGNS_TABLE} is missing or empty; asked MoEngage for the "
            "campaigns active that day instead"
        )
        logger.warning("campaign stats %s", note)
        report.notes.append(note)
    return ids


def _summary(
    day: date,
    fetched: DayStats,
    wide: Sequence[Mapping[str, Any]],
    ids: list[str] | None,
    parents: Mapping[str, str],
    report: StatsReport,
) -> DaySummary:
    return DaySummary(
        day=day,
        rows=len(fetched.rows),
        daily_rows=len(wide),
        requests=fetched.requests,
        campaigns=len(fetched.campaigns),
        campaigns_asked=None if ids is None else len(ids),
        totals=_day_totals(wide, report.attribution_type, report.metric_type, parents),
    )


def _day_failed(
    exc: MoEngageError, day: date, ordered: list[date], report: StatsReport, *, writing: bool
) -> StatsDayError:
    committed = [summary.day for summary in report.days]
    rest = [other for other in ordered if other >= day]
    shown = ", ".join(str(other) for other in committed) or "none"
    # Fetching fails before anything of the day is written; each table is then written in a
    # transaction of its own, so a failed write may have replaced one table's rows only.
    state = (
        f"{day} may be written in part (each table in its own transaction)"
        if writing
        else f"Nothing of {day} was written"
    )
    return StatsDayError(
        f"campaign stats for {day} failed: {str(exc).rstrip('.')}. {state}. Committed before "
        f"the failure: {shown}. Not written: {', '.join(str(other) for other in rest)}. "
        f"Re-run from {day}: committed days are complete, and a re-pull replaces them.",
        day=day,
        committed=committed,
        not_written=rest,
        retryable=not isinstance(exc, PullError),
        report=report,
    )


def _report_unknown(report: StatsReport, unknown: list[str], days: list[date]) -> None:
    report.unknown_campaign_ids = unknown
    span = f"{days[0]}" if len(days) == 1 else f"{days[0]}..{days[-1]}"
    for campaign_id in unknown:
        issue = ShapeIssue(
            f"campaign {campaign_id}",
            f"MoEngage returned no numbers for it on {span}: not a campaign of this "
            "workspace (check the id), or an API-triggered one (no stats exist for those)",
        )
        report.issues.append(issue)
        logger.warning("campaign stats: %s", issue)


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
    """The day's totals, from the rows that count each message once (as the summable view)."""
    chosen = [
        record
        for record in wide
        if record["attribution_type"] == attribution
        and record["metric_type"] == metric_type
        and record["in_campaign_total"]
    ]
    present = {record["campaign_id"] for record in chosen}
    totals = dict.fromkeys((*CHART_METRICS, "impressions", "revenue"), 0.0)
    for record in chosen:
        if parents.get(record["campaign_id"]) in present:
            continue  # a periodic run: its parent's numbers include it
        for metric in totals:
            totals[metric] += record.get(metric) or 0.0
    return totals
