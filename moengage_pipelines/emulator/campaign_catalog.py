"""The fixed, seeded campaign catalogue every emulated workspace has.

Campaigns are not created through the API (MoEngage creates them in its dashboard), so each
workspace starts with the same catalogue: 18 parent campaigns over PUSH, EMAIL and SMS and
every delivery type, two of them archived, plus periodic children. Ids are derived from the
workspace id and the campaign's slug, so they are stable across runs and restarts and differ
between workspaces.

Each workspace also has one API-triggered (Messaging API) campaign. The campaigns APIs'
delivery types do not include ``API_TRIGGERED`` and campaign-stats is "not available for
API_TRIGGERED campaigns", so it is kept apart (``api_triggered``): no search, meta, stats or
report answers for it.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["Campaign", "api_triggered", "catalogue", "find"]


@dataclass(frozen=True)
class Campaign:
    """One campaign of the catalogue.

    Attributes:
        campaign_id: 24 hex characters.
        slug: Stable short name used to derive the id.
        name: Display name.
        channel: ``PUSH``, ``EMAIL`` or ``SMS``.
        delivery_type: One of MoEngage's delivery types.
        status: Upper-case status (``ACTIVE``, ``SENT``...).
        platforms: Push platforms (``ANDROID``, ``IOS``, ``WEB``); empty for email and SMS.
        tags: Tags.
        goal: Conversion-goal event name: events with this action count as conversions.
        created_by: Creator's email.
        created_at: ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC).
        parent_id: Parent campaign id of a periodic child, else None.
        child_index: Position of a child among its parent's children.
        child_count: Number of children of the parent (children only).
        flow: ``(flow_id, flow_name)`` for flow campaigns.
    """

    campaign_id: str
    slug: str
    name: str
    channel: str
    delivery_type: str
    status: str
    platforms: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    goal: str = "Purchase"
    created_by: str = "growth@example.com"
    created_at: str = "2024-01-01 00:00:00.000000"
    parent_id: str | None = None
    child_index: int = 0
    child_count: int = 0
    flow: tuple[str, str] | None = None
    children: tuple[Campaign, ...] = field(default=(), repr=False)

    @property
    def archived(self) -> bool:
        """Archived campaigns appear only when asked for."""
        return self.status == "ARCHIVED"

    def runs_on(self, day_ordinal: int) -> bool:
        """Whether the campaign ran on a day.

        Parents run every day; child k of n on days with ``ordinal % n == k``, so a parent's
        children split its days between them.
        """
        if self.parent_id is None:
            return True
        return day_ordinal % self.child_count == self.child_index

    def stats_platforms(self) -> tuple[str, ...]:
        """Platform keys of its stats: push platforms in lower case, ``unknown`` otherwise."""
        return tuple(p.lower() for p in self.platforms) if self.channel == "PUSH" else ("unknown",)

    def to_dict(self) -> dict[str, Any]:
        """Plain representation (inspection API)."""
        return {
            "campaign_id": self.campaign_id,
            "name": self.name,
            "channel": self.channel,
            "delivery_type": self.delivery_type,
            "status": self.status,
            "platforms": list(self.platforms),
            "tags": list(self.tags),
            "goal": self.goal,
            "created_by": self.created_by,
            "created_at": self.created_at,
            "parent_id": self.parent_id,
            "child_index": self.child_index,
            "child_count": self.child_count,
            "flow": list(self.flow) if self.flow else None,
        }


# slug, name, channel, delivery type, status, platforms, tags, goal, creator, children
_PARENTS: tuple[tuple[Any, ...], ...] = (
    (
        "welcome-push",
        "Welcome Push",
        "PUSH",
        "ONE_TIME",
        "SENT",
        ("ANDROID", "IOS"),
        ("onboarding",),
        "App Opened",
        "growth",
        0,
    ),
    (
        "daily-deals",
        "Daily Deals Push",
        "PUSH",
        "PERIODIC",
        "ACTIVE",
        ("ANDROID", "IOS", "WEB"),
        ("deals",),
        "Purchase",
        "growth",
        3,
    ),
    (
        "cart-abandon-push",
        "Cart Abandonment Push",
        "PUSH",
        "EVENT_TRIGGERED",
        "ACTIVE",
        ("ANDROID", "IOS"),
        ("cart",),
        "Purchase",
        "lifecycle",
        0,
    ),
    (
        "web-flash-sale",
        "Web Flash Sale",
        "PUSH",
        "ONE_TIME",
        "SENT",
        ("WEB",),
        ("sale",),
        "Purchase",
        "growth",
        0,
    ),
    (
        "price-drop",
        "Price Drop Alert",
        "PUSH",
        "BUSINESS_EVENT_TRIGGERED",
        "ACTIVE",
        ("ANDROID",),
        ("alerts",),
        "Product Viewed",
        "lifecycle",
        0,
    ),
    (
        "store-nearby",
        "Store Nearby",
        "PUSH",
        "LOCATION_TRIGGERED",
        "PAUSED",
        ("ANDROID", "IOS"),
        ("geo",),
        "Store Visit",
        "growth",
        0,
    ),
    (
        "monthly-newsletter",
        "Monthly Newsletter",
        "EMAIL",
        "PERIODIC",
        "ACTIVE",
        (),
        ("newsletter",),
        "Purchase",
        "crm",
        2,
    ),
    (
        "order-confirmation",
        "Order Confirmation",
        "EMAIL",
        "EVENT_TRIGGERED",
        "ACTIVE",
        (),
        ("transactional",),
        "Purchase",
        "crm",
        0,
    ),
    (
        "spring-launch",
        "Spring Collection Launch",
        "EMAIL",
        "ONE_TIME",
        "SENT",
        (),
        ("launch", "sale"),
        "Product Viewed",
        "crm",
        0,
    ),
    (
        "win-back",
        "Win-back Email",
        "EMAIL",
        "ONE_TIME",
        "STOPPED",
        (),
        ("retention",),
        "App Opened",
        "lifecycle",
        0,
    ),
    (
        "otp-reminder",
        "OTP Reminder SMS",
        "SMS",
        "EVENT_TRIGGERED",
        "ACTIVE",
        (),
        ("transactional",),
        "Login",
        "lifecycle",
        0,
    ),
    (
        "weekend-offer",
        "Weekend Offer SMS",
        "SMS",
        "PERIODIC",
        "ACTIVE",
        (),
        ("offers",),
        "Purchase",
        "growth",
        2,
    ),
    (
        "festive-sale",
        "Festive Sale SMS",
        "SMS",
        "ONE_TIME",
        "SENT",
        (),
        ("sale",),
        "Purchase",
        "growth",
        0,
    ),
    (
        "device-reengage",
        "Device Re-engagement",
        "PUSH",
        "DEVICE_TRIGGERED",
        "ACTIVE",
        ("ANDROID",),
        ("retention",),
        "App Opened",
        "lifecycle",
        0,
    ),
    (
        "live-score",
        "Live Score Activity",
        "PUSH",
        "BROADCAST_LIVE_ACTIVITY",
        "SCHEDULED",
        ("IOS",),
        ("sports",),
        "App Opened",
        "growth",
        0,
    ),
    (
        "trial-expiry",
        "Trial Expiry Email",
        "EMAIL",
        "BUSINESS_EVENT_TRIGGERED",
        "SCHEDULED",
        (),
        ("retention",),
        "Subscribed",
        "crm",
        0,
    ),
    (
        "legacy-promo",
        "Legacy Promo Push",
        "PUSH",
        "ONE_TIME",
        "ARCHIVED",
        ("ANDROID",),
        ("sale",),
        "Purchase",
        "growth",
        0,
    ),
    (
        "old-newsletter",
        "Old Newsletter",
        "EMAIL",
        "PERIODIC",
        "ARCHIVED",
        (),
        ("newsletter",),
        "Purchase",
        "crm",
        0,
    ),
)
_FLOWS = {"cart-abandon-push": "Cart Recovery Flow"}
_API_TRIGGERED: tuple[tuple[Any, ...], ...] = (
    (
        "password-reset-api",
        "Password Reset (Messaging API)",
        "EMAIL",
        "API_TRIGGERED",
        "ACTIVE",
        (),
        ("transactional",),
        "Login",
        "platform",
        0,
    ),
)


def _campaign_id(workspace: str, slug: str) -> str:
    return hashlib.sha256(f"{workspace}/{slug}".encode()).hexdigest()[:24]


@functools.lru_cache(maxsize=64)
def catalogue(workspace: str) -> tuple[Campaign, ...]:
    """The campaigns the campaigns APIs list: each parent followed by its children."""
    return _build(workspace, _PARENTS)


@functools.lru_cache(maxsize=64)
def api_triggered(workspace: str) -> tuple[Campaign, ...]:
    """The workspace's API-triggered (Messaging API) campaigns."""
    return _build(workspace, _API_TRIGGERED, first_number=len(_PARENTS))


def _build(
    workspace: str, rows: tuple[tuple[Any, ...], ...], first_number: int = 0
) -> tuple[Campaign, ...]:
    result: list[Campaign] = []
    # ``fields`` are the row's name, channel, delivery type, status, platforms, tags and goal,
    # in the order of ``Campaign``'s fields.
    for number, (slug, *fields, creator, children) in enumerate(rows, first_number):
        name = fields[0]
        month, day = 1 + number % 12, 1 + (number * 7) % 28
        hour, minute = 8 + number % 10, (number * 13) % 60
        created_at = f"2024-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:00.{number * 1111:06d}"
        parent = Campaign(
            _campaign_id(workspace, slug), slug, *fields, f"{creator}@example.com", created_at
        )
        # Children are runs of their parent: the same campaign, sent, each with its own id.
        kids = tuple(
            replace(
                parent,
                campaign_id=_campaign_id(workspace, f"{slug}/run-{k + 1}"),
                slug=f"{slug}/run-{k + 1}",
                name=f"{name} - Run {k + 1}",
                status="SENT",
                parent_id=parent.campaign_id,
                child_index=k,
                child_count=children,
            )
            for k in range(children)
        )
        flow = (_campaign_id(workspace, f"flow/{slug}"), _FLOWS[slug]) if slug in _FLOWS else None
        parent = replace(parent, flow=flow, children=kids)
        result.append(parent)
        result.extend(kids)
    return tuple(result)


def find(workspace: str, campaign_id: str) -> Campaign | None:
    """A campaign by id, or None."""
    return next((c for c in catalogue(workspace) if c.campaign_id == campaign_id), None)
