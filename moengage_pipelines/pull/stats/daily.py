"""Tidy stats rows → the wide daily table: one row per day, campaign and platform.

:func:`daily_rows` picks, per (date, campaign, platform), the all-locales / all-variations
aggregate when MoEngage sends one, and otherwise sums the locales and the non-control
variations, so a day's numbers are never counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from moengage_pipelines.pull.stats.keys import ALL, is_control_group
from moengage_pipelines.pull.stats.normalize import (
    SECTION_CONVERSION_GOAL,
    SECTION_PERFORMANCE,
    StatRow,
)

__all__ = ["DAILY_METRICS", "daily_rows", "platform_total_rows"]

# Wide-table column → performance_stats metric it is read from (count metrics only: rates are
# recomputed from the counts, so summing locales or variations never adds percentages).
_PERFORMANCE_COLUMNS = {
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
DAILY_METRICS: tuple[str, ...] = (
    *_PERFORMANCE_COLUMNS,
    "conversions",
    "revenue",
    "all_goals_conversions",
    "control_group_conversions",
    "goals",
)
"""Numeric columns of the wide daily table, in order."""


def daily_rows(rows: Iterable[StatRow]) -> list[dict[str, Any]]:
    """Build the wide daily table from tidy rows.

    One output row per (date, campaign, platform, attribution type, metric type). For each,
    the locale ``all`` is used when present, else every locale is summed; within a locale the
    variation ``all`` is used when present, else every non-control variation is summed. Counts
    come from ``performance_stats``. ``conversions`` and ``revenue`` are those of the primary
    goal (the first one MoEngage lists: goals can overlap, so adding them would count a user
    who met two goals twice); ``all_goals_conversions`` adds every goal anyway;
    ``control_group_conversions`` is the primary goal's conversions in the control groups
    (users not sent the message, for uplift).
    Rates (``ctr``, ``delivery_rate``, ``conversion_rate``) are recomputed from the counts.

    Args:
        rows: Tidy rows, typically of one day.

    Returns:
        Records with the columns of ``moengage_campaign_stats_daily``.
    """
    groups: dict[tuple[Any, ...], list[StatRow]] = defaultdict(list)
    for row in rows:
        key = (row.day, row.campaign_id, row.platform, row.attribution_type, row.metric_type)
        groups[key].append(row)
    records = []
    for (day, campaign_id, platform, attribution, metric_type), members in groups.items():
        chosen = _aggregate_rows(members)
        control = [
            row
            for row in _locale_rows(members)
            if is_control_group(row.variation)
            and row.section.startswith(SECTION_CONVERSION_GOAL + ":")
            and row.metric == "conversions"
        ]
        record: dict[str, Any] = {
            "date": day,
            "campaign_id": campaign_id,
            "platform": platform,
            "attribution_type": attribution,
            "metric_type": metric_type,
        }
        for column, metric in _PERFORMANCE_COLUMNS.items():
            record[column] = _sum(
                r for r in chosen if r.section == SECTION_PERFORMANCE and r.metric == metric
            )
        goal_rows = [r for r in chosen if r.section.startswith(SECTION_CONVERSION_GOAL + ":")]
        goal_names = list(dict.fromkeys(r.section for r in goal_rows))
        primary = goal_names[0] if goal_names else None
        record["conversions"] = _sum(
            r for r in goal_rows if r.section == primary and r.metric == "conversions"
        )
        record["revenue"] = _sum(
            r for r in goal_rows if r.section == primary and r.metric == "revenue"
        )
        record["all_goals_conversions"] = _sum(r for r in goal_rows if r.metric == "conversions")
        record["control_group_conversions"] = _sum(r for r in control if r.section == primary)
        record["goals"] = len(goal_names)
        record["ctr"] = _rate(record["clicks"], record["impressions"])
        record["delivery_rate"] = _rate(record["delivered"], record["sent"])
        record["conversion_rate"] = _rate(record["conversions"], record["clicks"])
        record["pulled_at"] = max(row.pulled_at for row in members)
        records.append(record)
    return records


def _locale_rows(rows: list[StatRow]) -> list[StatRow]:
    """The rows of the ``all`` locale if present, else of every locale (they are disjoint).

    Should two spellings of the aggregate arrive together, only the first is used: they
    describe the same messages, and summing them would count each twice.
    """
    aggregate = [row for row in rows if row.locale == "all"]
    if not aggregate:
        return rows
    first = {}
    for row in aggregate:
        first.setdefault(row.entry, row.locale_raw)
    return [row for row in aggregate if row.locale_raw == first[row.entry]]


def _aggregate_rows(rows: list[StatRow]) -> list[StatRow]:
    """Rows that count each message once: aggregate locale, then aggregate variation."""
    by_locale: dict[tuple[int, str], list[StatRow]] = defaultdict(list)
    for row in _locale_rows(rows):
        by_locale[(row.entry, row.locale_raw)].append(row)
    chosen: list[StatRow] = []
    for locale_rows in by_locale.values():
        aggregate = [row for row in locale_rows if row.variation == "all"]
        if aggregate:
            spelling = aggregate[0].variation_raw
            aggregate = [row for row in aggregate if row.variation_raw == spelling]
        chosen.extend(
            aggregate or [row for row in locale_rows if not is_control_group(row.variation)]
        )
    return chosen


def _sum(rows: Iterable[StatRow]) -> float | None:
    values = [row.value for row in rows if row.value is not None]
    return float(sum(values)) if values else None


def _rate(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator * 100.0


def platform_total_rows(records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Of the daily records of one campaign, the ones that sum to its all-platform total.

    The ``ALL`` platform row when MoEngage sends one, else every per-platform row.
    """
    aggregate = [record for record in records if record["platform"] == ALL]
    return aggregate or list(records)
