"""Campaign stats derived deterministically from the events the emulator accepted.

The formula (also in ``docs/emulator.md``), for campaign ``c``, platform key ``p`` and UTC day
``d`` on which ``c`` runs (parents every day; child ``k`` of ``n`` on days whose proleptic
ordinal ``% n == k``). Only events of users that still exist count.

* Audience ``A``: PUSH: users with at least one event on ``d`` whose platform (lower-cased,
  missing = ``unknown``) is ``p``, for each push platform of ``c``. EMAIL: users with an event
  on ``d`` (any platform) whose profile has a non-empty ``email``/``u_em``/``moe_email``;
  SMS: the same with ``mobile``/``u_mb``/``moe_mobile``. EMAIL and SMS report under the
  platform key ``unknown``.
* Clickers ``K``: users of ``A`` with at least 2 such events that day.
* Goal events ``G``: events of users in ``A`` (``K`` for CLICK_THROUGH, CLICK_CONVERSIONS and
  IN_SESSION attribution) whose action equals ``c``'s goal (PUSH: on ``p``; EMAIL/SMS: any
  platform); ``revenue`` sums their numeric ``revenue`` attribute.
* With ``N = |A|`` and ``C = |K|``: ``attempted = eligible_users = N``, ``click = C``. A click
  proves its message was sent, delivered, seen and opened, so losses come from the ``N - C``
  users who did not click: ``failed = (N - C) // 20``, ``sent = N - failed``. EMAIL:
  ``bounced = (sent - C) // 10``, ``hard_bounce = bounced // 2``, ``soft_bounce = bounced -
  hard_bounce``, ``delivered = sent - bounced``, ``opened = max(delivered // 2, C)``. PUSH:
  ``delivered = sent``, ``impression = sent - (sent - C) // 10``. SMS: ``delivered = sent``.
  Every other count is 0. So the funnel is monotone: ``attempted ≥ sent ≥ delivered ≥
  opened`` (EMAIL) or ``impression`` (PUSH) ``≥ click``.
* ``metric_type`` TOTAL sums these per-day values over the days; UNIQUE applies the same
  formulas once to the distinct users over the whole range (``A`` and ``K`` are unions).
  Conversions are the goal-event count (TOTAL; a user may convert several times, so it is
  not bounded by the funnel) or converting users (UNIQUE). Converting users (``unique``) are
  at most the attributed users: ``≤ attempted``, and ``≤ click`` for click attributions.
* Rates are percentages rounded to 2 decimals (0 when the denominator is 0):
  ``ctr = click / impression`` (PUSH) or ``click / delivered``; ``delivery_rate = delivered /
  sent``; ``sent_rate = sent / attempted``; ``failure_rate = (attempted - sent) / attempted``;
  ``open_rate = opened / delivered``; ``ctor = click / opened``; ``bounce_rate = bounced /
  sent``; ``cvr = conversions / sent``.
* Control groups: ``campaign_control_group.failure_breakdown
  .user_removed_due_to_campaing_control_group = N // 25`` and
  ``global_control_group...user_removed_due_to_global_control_group = N // 50``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from moengage_pipelines.emulator.campaign_catalog import Campaign

__all__ = ["Activity", "campaign_stats", "has_activity"]

CLICK_ATTRIBUTIONS = frozenset({"CLICK_THROUGH", "CLICK_CONVERSIONS", "IN_SESSION"})


@dataclass
class _Day:
    # platform -> customer -> events; customer -> events (all platforms)
    by_platform: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    by_user: dict[str, int] = field(default_factory=dict)
    # (platform, customer, action) -> (events, revenue)
    actions: dict[tuple[str, str, str], tuple[int, float]] = field(default_factory=dict)


class Activity:
    """Events of a date range, indexed for the stats formula.

    Args:
        rows: ``Store.activity`` rows.
    """

    def __init__(self, rows: list[tuple]) -> None:
        self.days: dict[str, _Day] = defaultdict(_Day)
        self.email: set[str] = set()
        self.mobile: set[str] = set()
        for day, platform, customer, action, events, revenue, has_email, has_mobile, exists in rows:
            if not exists:
                continue
            bucket = self.days[day]
            bucket.by_platform[platform][customer] = (
                bucket.by_platform[platform].get(customer, 0) + events
            )
            bucket.by_user[customer] = bucket.by_user.get(customer, 0) + events
            count, total = bucket.actions.get((platform, customer, action), (0, 0.0))
            bucket.actions[(platform, customer, action)] = (
                count + events,
                total + (revenue or 0.0),
            )
            if has_email:
                self.email.add(customer)
            if has_mobile:
                self.mobile.add(customer)

    def audience(self, campaign: Campaign, platform: str, day: str) -> dict[str, int]:
        """Users reached on a day (customer to their event count)."""
        bucket = self.days.get(day)
        if bucket is None:
            return {}
        if campaign.channel == "PUSH":
            return dict(bucket.by_platform.get(platform, {}))
        reachable = self.email if campaign.channel == "EMAIL" else self.mobile
        return {c: n for c, n in bucket.by_user.items() if c in reachable}

    def goals(
        self, campaign: Campaign, platform: str, day: str, users: set[str]
    ) -> dict[str, tuple[int, float]]:
        """Goal events of the given users on a day: customer to (events, revenue)."""
        bucket = self.days.get(day)
        found: dict[str, tuple[int, float]] = {}
        if bucket is None:
            return found
        for (event_platform, customer, action), (count, revenue) in bucket.actions.items():
            if action != campaign.goal or customer not in users:
                continue
            if campaign.channel == "PUSH" and event_platform != platform:
                continue
            before = found.get(customer, (0, 0.0))
            found[customer] = (before[0] + count, before[1] + revenue)
        return found


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _rate(numerator: float, denominator: float) -> float:
    return round(numerator / denominator * 100, 2) if denominator else 0


def _counts(channel: str, reached: int, clicks: int) -> dict[str, int]:
    """The delivery funnel of ``reached`` users of whom ``clicks`` clicked.

    A click proves its message was sent, delivered, seen and opened, so failures, bounces and
    unseen impressions come from the users who did not click. That keeps the funnel monotone:
    attempted ≥ sent ≥ delivered ≥ opened (email) or impressions (push) ≥ clicks.
    """
    failed = (reached - clicks) // 20
    sent = reached - failed
    unclicked_sent = sent - clicks
    bounced = unclicked_sent // 10 if channel == "EMAIL" else 0
    delivered = sent - bounced
    hard = bounced // 2
    return {
        "attempted": reached,
        "sent": sent,
        "failed": failed,
        "bounced": bounced,
        "impression": sent - unclicked_sent // 10 if channel == "PUSH" else 0,
        "click": clicks,
        "opened": max(delivered // 2, clicks) if channel == "EMAIL" else 0,
        "delivered": delivered,
        "read": 0,
        "closed_click": 0,
        "unsubscribe": 0,
        "successfully_synced": 0,
        "eligible_users": reached,
        "complaint": 0,
        "hard_bounce": hard,
        "soft_bounce": bounced - hard,
    }


def _with_rates(channel: str, counts: dict[str, int]) -> dict[str, Any]:
    stats: dict[str, Any] = dict(counts)
    views = counts["impression"] if channel == "PUSH" else counts["delivered"]
    stats.update(
        ctr=_rate(counts["click"], views),
        delivery_rate=_rate(counts["delivered"], counts["sent"]),
        read_rate=0,
        sent_rate=_rate(counts["sent"], counts["attempted"]),
        failure_rate=_rate(counts["attempted"] - counts["sent"], counts["attempted"]),
        open_rate=_rate(counts["opened"], counts["delivered"]),
        ctor=_rate(counts["click"], counts["opened"]),
        unsub_rate=0,
        bounce_rate=_rate(counts["bounced"], counts["sent"]),
        complaints_rate=0,
    )
    return stats


def _funnel(channel: str, counts: dict[str, int]) -> dict[str, int]:
    reached = counts["attempted"]
    if channel == "PUSH":
        return {
            "reachable_users_in_segment": reached,
            "segment_after_uninstall": reached,
            "after_fc": reached,
            "users_after_dup": reached,
            "sent": counts["sent"],
            "user_devices": reached,
            "impressions": counts["impression"],
            "active_device_token": reached,
        }
    if channel == "EMAIL":
        return {
            "total_user_in_segment": reached,
            "user_with_email": reached,
            "user_with_email_after__h_b": reached - counts["hard_bounce"],
            "user_after_duplicate_removal": reached,
            "after_personalization_removal": reached,
            "sent": counts["sent"],
            "delivered": counts["delivered"],
        }
    return {
        "reachable_users_in_segment": reached,
        "after_invalid_removal": reached,
        "sent": counts["sent"],
        "delivered": counts["delivered"],
    }


def _goal(
    name: str, conversions: int, total: int, unique: int, revenue: float, sent: int
) -> dict[str, Any]:
    return {
        "goal_name": name,
        "conversions": conversions,
        "cvr": _rate(conversions, sent),
        "uplift": 0,
        "total": total,
        "unique": unique,
        "revenue": round(revenue, 2),
        "average_order_value": round(revenue / total, 2) if total else 0,
        "average_revenue_per_user": round(revenue / unique, 2) if unique else 0,
        "gcg_uplift": 0,
    }


def _platform_stats(
    campaign: Campaign,
    platform: str,
    days: list[date],
    activity: Activity,
    attribution: str,
    metric: str,
) -> dict[str, Any]:
    channel = campaign.channel
    totals: dict[str, int] = defaultdict(int)
    goal_total = 0
    revenue = 0.0
    union_reached: set[str] = set()
    union_clicks: set[str] = set()
    converters: set[str] = set()
    for day in days:
        if not campaign.runs_on(day.toordinal()):
            continue
        key = day.isoformat()
        audience = activity.audience(campaign, platform, key)
        clickers = {c for c, n in audience.items() if n >= 2}
        attributed = clickers if attribution in CLICK_ATTRIBUTIONS else set(audience)
        goals = activity.goals(campaign, platform, key, attributed)
        for name, value in _counts(channel, len(audience), len(clickers)).items():
            totals[name] += value
        goal_total += sum(count for count, _ in goals.values())
        revenue += sum(amount for _, amount in goals.values())
        union_reached.update(audience)
        union_clicks.update(clickers)
        converters.update(goals)
    if metric == "UNIQUE":
        counts = _counts(channel, len(union_reached), len(union_clicks))
        conversions = len(converters)
        reached = len(union_reached)
    else:
        counts = dict(totals) or _counts(channel, 0, 0)
        conversions = goal_total
        reached = counts["attempted"]
    goal = _goal(campaign.goal, conversions, goal_total, len(converters), revenue, counts["sent"])
    empty_goal = {campaign.goal: _goal(campaign.goal, 0, 0, 0, 0.0, 0)}
    failure = {"send_failed": counts["failed"]} if counts["failed"] else {}
    return {
        "locales": {
            "all_locales": {
                "variations": {
                    "all_variations": {
                        "performance_stats": _with_rates(channel, counts),
                        "conversion_goal_stats": {campaign.goal: goal},
                        "delivery_funnel": _funnel(channel, counts),
                        "failure_breakdown": failure,
                    },
                    "campaign_control_group": {
                        "conversion_goal_stats": empty_goal,
                        "delivery_funnel": {"reachable_users_in_segment": 0},
                        "failure_breakdown": {
                            "user_removed_due_to_campaing_control_group": reached // 25
                        },
                    },
                    "global_control_group": {
                        "conversion_goal_stats": empty_goal,
                        "delivery_funnel": {"reachable_users_in_segment": 0},
                        "failure_breakdown": {
                            "user_removed_due_to_global_control_group": reached // 50
                        },
                    },
                }
            }
        }
    }


def campaign_stats(
    campaign: Campaign, start: date, end: date, activity: Activity, *, attribution: str, metric: str
) -> dict[str, Any]:
    """The ``{"platforms": {...}}`` entry of one campaign over ``start..end`` (inclusive)."""
    days = _days(start, end)
    return {
        "platforms": {
            platform: _platform_stats(campaign, platform, days, activity, attribution, metric)
            for platform in campaign.stats_platforms()
        }
    }


def has_activity(campaign: Campaign, start: date, end: date, activity: Activity) -> bool:
    """Whether a campaign reached anyone in the range (it was "active" then)."""
    for day in _days(start, end):
        if not campaign.runs_on(day.toordinal()):
            continue
        for platform in campaign.stats_platforms():
            if activity.audience(campaign, platform, day.isoformat()):
                return True
    return False
