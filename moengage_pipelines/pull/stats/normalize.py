"""Normalize campaign-stats answers: the nested ``data`` object → one tidy row per metric.

A stats response nests ``data → campaign_id → [entry] → platforms → platform → locales →
locale → variations → variation → section → metric``. :func:`flatten_stats` turns it into one
row per metric with the raw and the normalized key (:mod:`.keys`) of every level. Nothing is
dropped:

* an unknown metric is one more row;
* an unknown section (a dict of numbers, or of dicts of numbers) becomes rows under its own
  name; a bare number at variation level becomes a row of section ``other``;
* a value that is not a number is kept as text (``value_text``) with ``value`` NULL;
* a structure that cannot be read (``platforms`` missing, a list where a dict belongs, an
  unknown platform key) is reported as a :class:`~moengage_pipelines.pull.issues.ShapeIssue`
  naming the path, so the caller can log it and fail a check instead of writing silently wrong
  numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import orjson

from moengage_pipelines.pull.issues import ShapeIssue
from moengage_pipelines.pull.stats.keys import (
    normalize_locale,
    normalize_platform,
    normalize_variation,
)

__all__ = [
    "SECTION_CONVERSION_GOAL",
    "SECTION_DELIVERY_FUNNEL",
    "SECTION_FAILURE_BREAKDOWN",
    "SECTION_OTHER",
    "SECTION_PERFORMANCE",
    "StatRow",
    "StatsContext",
    "flatten_stats",
    "parse_number",
]

SECTION_PERFORMANCE = "performance_stats"
SECTION_CONVERSION_GOAL = "conversion_goal_stats"
SECTION_DELIVERY_FUNNEL = "delivery_funnel"
SECTION_FAILURE_BREAKDOWN = "failure_breakdown"
SECTION_OTHER = "other"


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class StatsContext:
    """What a stats response was requested for; stamped on every row.

    Attributes:
        day: The day the numbers are for (the request's start_date = end_date).
        attribution_type: The request's attribution type, e.g. ``CLICK_THROUGH``.
        metric_type: ``TOTAL`` or ``UNIQUE``.
        pulled_at: When the response was received (UTC).
    """

    day: date
    attribution_type: str
    metric_type: str
    pulled_at: datetime


@dataclass(frozen=True)
class StatRow:
    """One metric of one campaign on one day, platform, locale and variation."""

    day: date
    campaign_id: str
    platform: str
    platform_raw: str
    locale: str
    locale_raw: str
    variation: str
    variation_raw: str
    section: str
    metric: str
    value: float | None
    value_text: str | None
    attribution_type: str
    metric_type: str
    pulled_at: datetime
    entry: int = 0

    def as_record(self) -> dict[str, Any]:
        """The row as a dict keyed by warehouse column name."""
        return {
            "date": self.day,
            "campaign_id": self.campaign_id,
            "platform": self.platform,
            "platform_raw": self.platform_raw,
            "locale": self.locale,
            "locale_raw": self.locale_raw,
            "variation": self.variation,
            "variation_raw": self.variation_raw,
            "section": self.section,
            "metric": self.metric,
            "value": self.value,
            "value_text": self.value_text,
            "attribution_type": self.attribution_type,
            "metric_type": self.metric_type,
            "entry": self.entry,
            "pulled_at": self.pulled_at,
        }


@dataclass
class _Flattener:
    context: StatsContext
    rows: list[StatRow] = field(default_factory=list)
    issues: list[ShapeIssue] = field(default_factory=list)

    def issue(self, path: Sequence[str], reason: str) -> None:
        self.issues.append(ShapeIssue("/".join(path), reason))

    def campaign(self, campaign_id: str, entries: Any, path: list[str]) -> None:
        if isinstance(entries, Mapping):
            # Documented as a list of one entry; a bare object means the same thing.
            entries = [entries]
        if not isinstance(entries, list):
            self.issue(path, f"expected a list of entries, got {_kind(entries)}; skipped")
            return
        if len(entries) > 1:
            self.issue(
                path,
                f"{len(entries)} entries for one campaign; rows keep the entry index and the "
                "daily table sums them",
            )
        for index, entry in enumerate(entries):
            entry_path = [*path, str(index)]
            if not isinstance(entry, Mapping):
                self.issue(entry_path, f"expected an object, got {_kind(entry)}; skipped")
                continue
            platforms = entry.get("platforms")
            if not isinstance(platforms, Mapping):
                self.issue(
                    entry_path,
                    "no 'platforms' object"
                    + (f" (got {_kind(platforms)})" if platforms is not None else "")
                    + "; entry skipped",
                )
                continue
            for key in entry:
                if key != "platforms":
                    self.issue([*entry_path, key], "unexpected key beside 'platforms'; ignored")
            for raw_platform, platform_obj in platforms.items():
                self.platform(
                    campaign_id,
                    index,
                    str(raw_platform),
                    platform_obj,
                    [*entry_path, "platforms", str(raw_platform)],
                )

    def platform(self, campaign_id: str, entry: int, raw: str, obj: Any, path: list[str]) -> None:
        platform, known = normalize_platform(raw)
        if not known:
            self.issue(path, f"unexpected platform key, kept as platform {platform!r}")
        locales = obj.get("locales") if isinstance(obj, Mapping) else None
        if not isinstance(locales, Mapping):
            self.issue(path, "no 'locales' object; platform skipped")
            return
        for raw_locale, locale_obj in locales.items():
            locale_path = [*path, "locales", str(raw_locale)]
            variations = locale_obj.get("variations") if isinstance(locale_obj, Mapping) else None
            if not isinstance(variations, Mapping):
                self.issue(locale_path, "no 'variations' object; locale skipped")
                continue
            for raw_variation, sections in variations.items():
                keys = _Keys(
                    campaign_id,
                    entry,
                    platform,
                    raw,
                    normalize_locale(str(raw_locale)),
                    str(raw_locale),
                    normalize_variation(str(raw_variation)),
                    str(raw_variation),
                )
                self.variation(keys, sections, [*locale_path, "variations", str(raw_variation)])

    def variation(self, keys: _Keys, sections: Any, path: list[str]) -> None:
        if not isinstance(sections, Mapping):
            self.issue(path, f"expected an object of sections, got {_kind(sections)}; skipped")
            return
        for section, content in sections.items():
            section = str(section)
            if section == SECTION_CONVERSION_GOAL:
                self.goals(keys, content, [*path, section])
            elif isinstance(content, Mapping):
                self.metrics(keys, section, content, [*path, section])
            else:
                # A bare value beside the sections: an unknown metric, kept under "other".
                self.add(keys, SECTION_OTHER, section, content)

    def goals(self, keys: _Keys, goals: Any, path: list[str]) -> None:
        if not isinstance(goals, Mapping):
            self.issue(path, f"expected an object of goals, got {_kind(goals)}; skipped")
            return
        for goal, metrics in goals.items():
            section = f"{SECTION_CONVERSION_GOAL}:{goal}"
            if isinstance(metrics, Mapping):
                self.metrics(keys, section, metrics, [*path, str(goal)])
            else:
                self.issue([*path, str(goal)], "expected an object of goal metrics; kept as text")
                self.add(keys, section, "value", metrics)

    def metrics(
        self, keys: _Keys, section: str, metrics: Mapping[str, Any], path: list[str]
    ) -> None:
        for metric, value in metrics.items():
            if isinstance(value, Mapping):
                # One more level (e.g. a per-reason breakdown inside a new section).
                self.metrics(keys, f"{section}:{metric}", value, [*path, str(metric)])
            else:
                self.add(keys, section, str(metric), value)

    def add(self, keys: _Keys, section: str, metric: str, raw_value: Any) -> None:
        value, text = parse_number(raw_value)
        self.rows.append(
            StatRow(
                day=self.context.day,
                campaign_id=keys.campaign_id,
                platform=keys.platform,
                platform_raw=keys.platform_raw,
                locale=keys.locale,
                locale_raw=keys.locale_raw,
                variation=keys.variation,
                variation_raw=keys.variation_raw,
                section=section,
                metric=metric,
                value=value,
                value_text=text,
                attribution_type=self.context.attribution_type,
                metric_type=self.context.metric_type,
                pulled_at=self.context.pulled_at,
                entry=keys.entry,
            )
        )


@dataclass(frozen=True)
class _Keys:
    campaign_id: str
    entry: int
    platform: str
    platform_raw: str
    locale: str
    locale_raw: str
    variation: str
    variation_raw: str


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """Split a metric value into a number and a text.

    Numbers (and numeric strings, optionally ending in ``%``) give ``(number, None)``;
    booleans give 1.0 / 0.0; ``None`` and NaN give ``(None, None)``; anything else gives
    ``(None, text)``, lists and objects as JSON, so nothing is lost.
    """
    if value is None:
        return None, None
    if isinstance(value, bool):
        return (1.0 if value else 0.0), None
    if isinstance(value, int | float):
        number = float(value)
        return (None, None) if math.isnan(number) else (number, None)
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        candidate = text[:-1].strip() if text.endswith("%") else text
        if _NUMBER.match(candidate):
            return float(candidate), None
        return None, value
    return None, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def flatten_stats(
    data: Mapping[str, Any], context: StatsContext
) -> tuple[list[StatRow], list[ShapeIssue]]:
    """Flatten the ``data`` object of one campaign-stats response page.

    Args:
        data: ``response["data"]``: campaign id → list of entries.
        context: The day, attribution type and metric type the page was requested for.

    Returns:
        ``(rows, issues)``: one row per metric; the parts that could not be read.
    """
    flattener = _Flattener(context)
    for campaign_id, entries in data.items():
        flattener.campaign(str(campaign_id), entries, ["data", str(campaign_id)])
    return flattener.rows, flattener.issues
