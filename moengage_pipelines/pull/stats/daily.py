"""Tidy stats rows → the daily fact table: one wide row per key of :data:`DAILY_KEY`.

The grain is (date, campaign, platform, locale, variation, attribution type, metric type),
exactly as MoEngage answers it, aggregates included (locale ``all``, variation ``all``,
platform ``ALL``). Each row says whether it is one of the rows that add up to the campaign's
total without counting a message twice (``in_campaign_total``): the aggregate locale when
MoEngage sends it, else every locale; within it the aggregate variation, else every variation
but the control groups; the device platforms, or ``ALL`` when it is the only one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from moengage_pipelines.pull.stats.keys import ALL, is_control_group, push_platform
from moengage_pipelines.pull.stats.normalize import (
    SECTION_CONVERSION_GOAL,
    SECTION_PERFORMANCE,
    StatRow,
)

__all__ = ["ADDITIVE_METRICS", "DAILY_KEY", "RATE_COLUMNS", "daily_rows"]

DAILY_KEY = (
    "date",
    "campaign_id",
    "platform",
    "locale",
    "variation",
    "attribution_type",
    "metric_type",
)
"""The grain (and primary key) of ``moengage_campaign_stats_daily``."""

# Column → performance_stats metric it is read from.
_PERFORMANCE_COUNTS = {
    "attempted": "attempted",
    "sent": "sent",
    "failed": "failed",
    "delivered": "delivered",
    "impressions": "impression",
    "clicks": "click",
    "opened": "opened",
    "read": "read",
    "bounced": "bounced",
    "unsubscribed": "unsubscribe",
    "complaints": "complaint",
}
ADDITIVE_METRICS: tuple[str, ...] = (
    *_PERFORMANCE_COUNTS,
    "conversions",
    "revenue",
    "all_goals_conversions",
)
"""Count columns: a SUM over rows that count each message once is meaningful."""

RATE_COLUMNS = ("ctr", "delivery_rate", "open_rate", "ctor", "bounce_rate", "conversion_rate")
"""Percentages as MoEngage returns them (``conversion_rate`` is the primary goal's ``cvr``);
recomputed from the row's counts only when MoEngage sends none. Never summed."""


def daily_rows(
    rows: Iterable[StatRow], channels: Mapping[str, str | None] | None = None
) -> list[dict[str, Any]]:
    """Build the daily fact rows from tidy rows.

    Rows of one key are added up over MoEngage's entries (several entries for one campaign
    are parts of it); should two spellings of one key arrive in one entry (``all_locales``
    and ``all_locale``), only the first is used, as both describe the same messages.
    ``conversions`` and ``revenue`` are those of the primary goal, the first MoEngage lists
    (goals can overlap, so adding them would count a user who met two goals twice);
    ``all_goals_conversions`` adds every goal anyway.

    Args:
        rows: Tidy rows, typically of one day.
        channels: Campaign id → channel, to spell email and SMS rows' platform as the
            channel (see :func:`~moengage_pipelines.pull.stats.keys.push_platform`).

    Returns:
        Records with the columns of ``moengage_campaign_stats_daily``.
    """
    channels = channels or {}
    groups: dict[tuple[Any, ...], list[StatRow]] = defaultdict(list)
    spelling: dict[tuple[Any, ...], tuple[str, str, str]] = {}
    for row in rows:
        platform = push_platform(row.platform, channels.get(row.campaign_id))
        key = (
            row.day,
            row.campaign_id,
            platform,
            row.locale,
            row.variation,
            row.attribution_type,
            row.metric_type,
        )
        raw = (row.platform_raw, row.locale_raw, row.variation_raw)
        if spelling.setdefault((*key, row.entry), raw) != raw:
            continue
        groups[key].append(row)
    records = [_record(key, members) for key, members in groups.items()]
    _mark_campaign_totals(records)
    return records


def _record(key: tuple[Any, ...], members: list[StatRow]) -> dict[str, Any]:
    record: dict[str, Any] = dict(zip(DAILY_KEY, key, strict=True))
    performance = [row for row in members if row.section == SECTION_PERFORMANCE]
    for column, metric in _PERFORMANCE_COUNTS.items():
        record[column] = _sum(row for row in performance if row.metric == metric)
    goal_rows = [row for row in members if row.section.startswith(SECTION_CONVERSION_GOAL + ":")]
    goal_names = list(dict.fromkeys(row.section for row in goal_rows))
    primary = [row for row in goal_rows if goal_names and row.section == goal_names[0]]
    record["conversions"] = _sum(row for row in primary if row.metric == "conversions")
    record["revenue"] = _sum(row for row in primary if row.metric == "revenue")
    record["all_goals_conversions"] = _sum(row for row in goal_rows if row.metric == "conversions")
    record["goals"] = len(goal_names)
    entries = len({row.entry for row in members})
    given = {
        rate: _single(performance, rate, entries)
        for rate in ("ctr", "delivery_rate", "open_rate", "ctor", "bounce_rate")
    }
    given["conversion_rate"] = _single(primary, "cvr", entries)
    views = record["impressions"] or record["delivered"]
    computed = {
        "ctr": _rate(record["clicks"], views),
        "delivery_rate": _rate(record["delivered"], record["sent"]),
        "open_rate": _rate(record["opened"], record["delivered"]),
        "ctor": _rate(record["clicks"], record["opened"]),
        "bounce_rate": _rate(record["bounced"], record["sent"]),
        "conversion_rate": _rate(record["conversions"], record["sent"]),
    }
    for rate in RATE_COLUMNS:
        record[rate] = given[rate] if given[rate] is not None else computed[rate]
    record["in_campaign_total"] = False
    record["pulled_at"] = max(row.pulled_at for row in members)
    return record


def _mark_campaign_totals(records: list[dict[str, Any]]) -> None:
    """Set ``in_campaign_total`` on the rows that count each message of a campaign once."""
    by_campaign: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_campaign[
            (
                record["date"],
                record["campaign_id"],
                record["attribution_type"],
                record["metric_type"],
            )
        ].append(record)
    for members in by_campaign.values():
        devices = [record for record in members if record["platform"] != ALL]
        by_platform: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for record in devices or members:
            by_platform[record["platform"]].append(record)
        for platform_rows in by_platform.values():
            aggregate = [record for record in platform_rows if record["locale"] == "all"]
            by_locale: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for record in aggregate or platform_rows:
                by_locale[record["locale"]].append(record)
            for locale_rows in by_locale.values():
                chosen = [record for record in locale_rows if record["variation"] == "all"] or [
                    record for record in locale_rows if not is_control_group(record["variation"])
                ]
                for record in chosen:
                    record["in_campaign_total"] = True


def _sum(rows: Iterable[StatRow]) -> float | None:
    values = [row.value for row in rows if row.value is not None]
    return float(sum(values)) if values else None


def _single(rows: list[StatRow], metric: str, entries: int) -> float | None:
    """MoEngage's own value of a rate, unless several entries were added (rates do not add)."""
    values = [row.value for row in rows if row.metric == metric and row.value is not None]
    return values[0] if len(values) == 1 and entries == 1 else None


def _rate(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator * 100.0
