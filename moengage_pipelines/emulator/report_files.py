"""Campaign report files: a ZIP with one CSV per channel, derived from what the emulator holds.

MoEngage does not document the CSV columns; these follow the push-report columns third-party
code reads (``Date, Time, Month, Campaign Name, Campaign ID, Conversion Goal 1 Event,
Message, Title``, per-platform ``Sent``/``Sent Rate``/``Impressions``/``Impression Rate``/
``Clicks``/``CTR``, and ``Goal 1 Click Through``/``View Through`` conversions and revenue),
with the email and SMS reports built the same way.

Rows: one per UTC day of the file's range and campaign of the channel (parents and periodic
children) that reached anyone that day, in day then catalogue order. Every number comes from
the campaign-stats formula (``moengage_pipelines.emulator.campaign_stats``) applied to that
single day with ``metric_type=TOTAL``: counts and rates from ``VIEW_THROUGH``, "Click
Through" conversions and revenue from ``CLICK_THROUGH``. So the report of a day and the
stats API for that day agree. The same data gives byte-identical files (fixed ZIP times).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from moengage_pipelines.emulator.campaign_catalog import Campaign, catalogue
from moengage_pipelines.emulator.campaign_stats import Activity, campaign_stats, has_activity
from moengage_pipelines.emulator.report_definitions import ReportDefinition, ReportFile
from moengage_pipelines.emulator.store import Store

__all__ = ["EMAIL_COLUMNS", "PUSH_COLUMNS", "SMS_COLUMNS", "build_report", "member_name"]

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_LEADING = ["Date", "Time", "Month", "Campaign Name", "Campaign ID", "Conversion Goal 1 Event"]
_TRAILING = ["Campaign Delivery Type", "Parent Campaign ID"]
_PLATFORMS = (("android", "Android"), ("ios", "Ios"), ("web", "Web"))
_PUSH_METRICS = ("Sent", "Sent Rate", "Impressions", "Impression Rate", "Clicks", "CTR")
_GOALS = (
    "Goal 1 Click Through Conversion Events",
    "Goal 1 Click Through Total Revenue",
    "Goal 1 View Through Conversion Events",
    "Goal 1 View Through Total Revenue",
)
PUSH_COLUMNS = (
    *_LEADING,
    "Message",
    "Title",
    *_TRAILING,
    *(
        f"{label} {metric}"
        for label in ("Android", "Ios", "Web", "All Platform")
        for metric in _PUSH_METRICS
    ),
    *(f"{goal} {label}" for goal in _GOALS for label in ("Android", "Ios", "Web", "All Platform")),
)
EMAIL_COLUMNS = (
    *_LEADING,
    "Subject",
    *_TRAILING,
    "Email Sent",
    "Email Delivered",
    "Email Delivery Rate",
    "Email Opens",
    "Email Open Rate",
    "Email Clicks",
    "Email CTR",
    "Email Bounces",
    "Email Hard Bounces",
    "Email Soft Bounces",
    "Email Unsubscribes",
    *_GOALS,
)
SMS_COLUMNS = (
    *_LEADING,
    "Message",
    *_TRAILING,
    "SMS Sent",
    "SMS Delivered",
    "SMS Delivery Rate",
    "SMS Clicks",
    "SMS CTR",
    *_GOALS,
)
_COLUMNS = {"PUSH": PUSH_COLUMNS, "EMAIL": EMAIL_COLUMNS, "SMS": SMS_COLUMNS}


def member_name(report_file: ReportFile, channel: str) -> str:
    """The CSV's name inside the ZIP, e.g. ``Daily_Push_20250304_push.csv``."""
    return f"{report_file.filename[: -len('.zip')]}_{channel.lower()}.csv"


def _rate(numerator: float, denominator: float) -> float:
    return round(numerator / denominator * 100, 2) if denominator else 0


def _number(value: float) -> str:
    """Whole numbers without a fraction, others with at most 2 decimals."""
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


def _variation(stats: dict[str, Any], platform: str) -> dict[str, Any]:
    variations = stats["platforms"][platform]["locales"]["all_locales"]["variations"]
    return variations["all_variations"]


def _goal(variation: dict[str, Any], goal: str) -> tuple[int, float]:
    found = variation["conversion_goal_stats"][goal]
    return found["conversions"], found["revenue"]


def _common(campaign: Campaign, day: date) -> list[str]:
    return [
        day.isoformat(),
        campaign.created_at[11:16],
        f"{_MONTHS[day.month - 1]} {day.year}",
        campaign.name,
        campaign.campaign_id,
        campaign.goal,
    ]


def _trailing(campaign: Campaign) -> list[str]:
    return [campaign.delivery_type, campaign.parent_id or ""]


def _push_row(campaign: Campaign, day: date, view: dict, click: dict) -> list[str]:
    metrics: list[str] = []
    totals = {"attempted": 0, "sent": 0, "impression": 0, "click": 0}
    goals: dict[str, list[float]] = {goal: [] for goal in _GOALS}
    for key, _ in _PLATFORMS:
        if key in view["platforms"]:
            stats = _variation(view, key)["performance_stats"]
            click_goal = _goal(_variation(click, key), campaign.goal)
            view_goal = _goal(_variation(view, key), campaign.goal)
        else:
            stats = dict.fromkeys(("attempted", "sent", "impression", "click", "sent_rate"), 0)
            stats["ctr"] = 0
            click_goal = view_goal = (0, 0.0)
        for name in totals:
            totals[name] += stats[name]
        metrics += [
            _number(stats["sent"]),
            _number(stats["sent_rate"]),
            _number(stats["impression"]),
            _number(_rate(stats["impression"], stats["sent"])),
            _number(stats["click"]),
            _number(stats["ctr"]),
        ]
        for goal, value in zip(_GOALS, (*click_goal, *view_goal), strict=True):
            goals[goal].append(value)
    metrics += [
        _number(totals["sent"]),
        _number(_rate(totals["sent"], totals["attempted"])),
        _number(totals["impression"]),
        _number(_rate(totals["impression"], totals["sent"])),
        _number(totals["click"]),
        _number(_rate(totals["click"], totals["impression"])),
    ]
    goal_cells = [_number(value) for goal in _GOALS for value in (*goals[goal], sum(goals[goal]))]
    text = [f"{campaign.name}: see what is new", campaign.name]
    return [*_common(campaign, day), *text, *_trailing(campaign), *metrics, *goal_cells]


def _single_platform_row(campaign: Campaign, day: date, view: dict, click: dict) -> list[str]:
    variation = _variation(view, "unknown")
    stats = variation["performance_stats"]
    goals = [*_goal(_variation(click, "unknown"), campaign.goal), *_goal(variation, campaign.goal)]
    if campaign.channel == "EMAIL":
        metrics = [
            stats["sent"],
            stats["delivered"],
            stats["delivery_rate"],
            stats["opened"],
            stats["open_rate"],
            stats["click"],
            stats["ctr"],
            stats["bounced"],
            stats["hard_bounce"],
            stats["soft_bounce"],
            stats["unsubscribe"],
        ]
        text = [f"{campaign.name} - this week"]
    else:
        metrics = [
            stats["sent"],
            stats["delivered"],
            stats["delivery_rate"],
            stats["click"],
            stats["ctr"],
        ]
        text = [f"{campaign.name}: reply STOP to opt out"]
    return [
        *_common(campaign, day),
        *text,
        *_trailing(campaign),
        *(_number(v) for v in metrics),
        *(_number(v) for v in goals),
    ]


def _rows(channel: str, days: list[date], activity: Activity, workspace: str) -> Iterator[list]:
    campaigns = [c for c in catalogue(workspace) if c.channel == channel]
    for day in days:
        for campaign in campaigns:
            if not has_activity(campaign, day, day, activity):
                continue
            view = campaign_stats(
                campaign, day, day, activity, attribution="VIEW_THROUGH", metric="TOTAL"
            )
            click = campaign_stats(
                campaign, day, day, activity, attribution="CLICK_THROUGH", metric="TOTAL"
            )
            if channel == "PUSH":
                yield _push_row(campaign, day, view, click)
            else:
                yield _single_platform_row(campaign, day, view, click)


def build_report(
    store: Store, workspace: str, definition: ReportDefinition, report_file: ReportFile
) -> bytes:
    """The ZIP of one generated file: a CSV per channel of the definition.

    Args:
        store: The emulator's store (events and users received).
        workspace: The workspace reported on.
        definition: The report's definition (channels).
        report_file: Which generation (its data range).

    Returns:
        The ZIP bytes; identical for identical data.
    """
    first, last = report_file.first_day, report_file.last_day
    activity = Activity(store.activity(workspace, first.isoformat(), last.isoformat()))
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    stamp = (
        report_file.generated_on.year,
        report_file.generated_on.month,
        report_file.generated_on.day,
        0,
        0,
        0,
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for channel in definition.channels:
            text = io.StringIO()
            writer = csv.writer(text, lineterminator="\r\n")
            writer.writerow(_COLUMNS[channel])
            writer.writerows(_rows(channel, days, activity, workspace))
            info = zipfile.ZipInfo(member_name(report_file, channel), date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, text.getvalue().encode("utf-8"))
    return buffer.getvalue()
