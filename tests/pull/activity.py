"""Users and events sent to the emulator, and the stats its documented formula derives from them.

The expected numbers are computed here from what the test *sent*, following the formula in
the emulator's documentation, independently of the emulator's own code: a pull that stored
anything else (a wrong day, a double-counted page, a dropped platform) fails the comparison.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from moengage_pipelines.api.client import MoEngageClient

DAYS = (date(2025, 3, 3), date(2025, 3, 4), date(2025, 3, 5))
"""The days of the seeded events."""
PLATFORMS = ("ANDROID", "iOS", "web")
ACTIONS = ("App Opened", "Purchase", "Product Viewed", "Login", "Purchase")
CLICK_ATTRIBUTIONS = {"CLICK_THROUGH", "CLICK_CONVERSIONS", "IN_SESSION"}


@dataclass(frozen=True)
class SentEvent:
    customer_id: str
    action: str
    platform: str
    day: date
    revenue: float | None


def users(count: int = 30) -> list[dict[str, Any]]:
    """Customers: every second one has an email, every third one a mobile."""
    result = []
    for number in range(count):
        attributes: dict[str, Any] = {"first_name": f"User {number}"}
        if number % 2 == 0:
            attributes["email"] = f"user{number}@example.com"
        if number % 3 == 0:
            attributes["mobile"] = f"+9190000{number:05d}"
        result.append(
            {"type": "customer", "customer_id": f"u{number:03d}", "attributes": attributes}
        )
    return result


def events(days: Sequence[date], count: int = 30, *, salt: int = 0) -> list[SentEvent]:
    """A deterministic mix: 0 to 3 events per user and day, on the user's platform."""
    result = []
    for day in days:
        for number in range(count):
            for index in range((number + day.day + salt) % 4):
                action = ACTIONS[(number + index + salt) % len(ACTIONS)]
                revenue = float(10 + number) if action == "Purchase" else None
                result.append(
                    SentEvent(f"u{number:03d}", action, PLATFORMS[number % 3], day, revenue)
                )
    return result


def _event_element(event: SentEvent, second: int) -> dict[str, Any]:
    moment = datetime(event.day.year, event.day.month, event.day.day, 12, tzinfo=UTC)
    attributes = {"revenue": event.revenue} if event.revenue is not None else {}
    return {
        "type": "event",
        "customer_id": event.customer_id,
        "actions": [
            {
                "action": event.action,
                "attributes": attributes,
                "platform": event.platform,
                "current_time": int(moment.timestamp()) + second,
            }
        ],
    }


def send(
    client: MoEngageClient, customers: list[dict[str, Any]], sent: Iterable[SentEvent]
) -> None:
    """Push customers, then events, through the bulk-import API."""
    client.post_transition(
        orjson.dumps({"type": "transition", "elements": customers}), users=len(customers), events=0
    )
    elements = [_event_element(event, index) for index, event in enumerate(sent)]
    for start in range(0, len(elements), 200):
        chunk = elements[start : start + 200]
        client.post_transition(
            orjson.dumps({"type": "transition", "elements": chunk}), users=0, events=len(chunk)
        )


def runs_on(campaign: dict[str, Any], day: date) -> bool:
    """Parents run every day; child k of n on days whose ordinal % n == k."""
    if campaign["parent_id"] is None:
        return True
    return day.toordinal() % campaign["child_count"] == campaign["child_index"]


def stats_platforms(campaign: dict[str, Any]) -> list[str]:
    """Platform keys of a campaign's stats: push platforms lower-cased, else ``unknown``."""
    if campaign["channel"] == "PUSH":
        return [platform.lower() for platform in campaign["platforms"]]
    return ["unknown"]


def expected_counts(
    campaign: dict[str, Any],
    platform: str,
    day: date,
    sent_events: Sequence[SentEvent],
    customers: Sequence[dict[str, Any]],
    attribution: str = "CLICK_THROUGH",
) -> dict[str, float]:
    """The documented per-day TOTAL numbers of one campaign and platform key."""
    zero = {
        "sent": 0,
        "delivered": 0,
        "impressions": 0,
        "clicks": 0,
        "conversions": 0,
        "revenue": 0.0,
        "attempted": 0,
    }
    if not runs_on(campaign, day):
        return zero
    todays = [event for event in sent_events if event.day == day]
    channel = campaign["channel"]
    if channel == "PUSH":
        audience_events = [e for e in todays if e.platform.lower() == platform]
    else:
        field = "email" if channel == "EMAIL" else "mobile"
        reachable = {c["customer_id"] for c in customers if c["attributes"].get(field)}
        audience_events = [e for e in todays if e.customer_id in reachable]
    per_user = Counter(event.customer_id for event in audience_events)
    reached = len(per_user)
    clickers = {customer for customer, n in per_user.items() if n >= 2}
    attributed = clickers if attribution in CLICK_ATTRIBUTIONS else set(per_user)
    goal_events = [
        e
        for e in (audience_events if channel == "PUSH" else todays)
        if e.action == campaign["goal"] and e.customer_id in attributed
    ]
    failed = (reached - len(clickers)) // 20
    sent = reached - failed
    bounced = (sent - len(clickers)) // 10 if channel == "EMAIL" else 0
    return {
        "attempted": reached,
        "sent": sent,
        "delivered": sent - bounced,
        "impressions": sent - (sent - len(clickers)) // 10 if channel == "PUSH" else 0,
        "clicks": len(clickers),
        "conversions": len(goal_events),
        "revenue": round(sum(e.revenue or 0.0 for e in goal_events), 2),
    }
