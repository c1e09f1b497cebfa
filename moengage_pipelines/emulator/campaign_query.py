"""The request of the legacy campaigns search/meta APIs: validation and filtering.

Both APIs take ``request_id``, ``limit`` (1..15), ``page`` (≥ 1), ``include_child_campaigns``,
``include_archive_campaigns`` and ``campaign_fields`` filters; they differ in the values their
enums allow, which ``QueryRules`` holds. Errors are raised as ``QueryError`` naming the field
(``target``), for the endpoint to answer in its envelope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from moengage_pipelines import limits
from moengage_pipelines.emulator.campaign_catalog import Campaign

__all__ = ["DELIVERY_TYPES", "CampaignQuery", "QueryError", "QueryRules", "parse_query"]

# Every delivery type; both APIs accept all of them (the meta reference's request enum lists
# four, but it answers all seven and MoEngage's campaigns reference gives meta the search
# request).
DELIVERY_TYPES = (
    "ONE_TIME",
    "PERIODIC",
    "EVENT_TRIGGERED",
    "BUSINESS_EVENT_TRIGGERED",
    "DEVICE_TRIGGERED",
    "LOCATION_TRIGGERED",
    "BROADCAST_LIVE_ACTIVITY",
)


class QueryError(Exception):
    """A request problem: ``target`` is the field, ``message`` MoEngage-style text."""

    def __init__(self, target: str, message: str) -> None:
        super().__init__(message)
        self.target = target
        self.message = message


@dataclass(frozen=True)
class QueryRules:
    """What one API accepts.

    Attributes:
        channels: Allowed ``channels``.
        delivery_types: Allowed ``delivery_type`` values.
        statuses: Allowed ``status`` values.
        created_date_needs_both: ``created_date`` must have both ``from_date`` and ``to_date``.
    """

    channels: tuple[str, ...]
    delivery_types: tuple[str, ...]
    statuses: tuple[str, ...]
    created_date_needs_both: bool = False


@dataclass(frozen=True)
class CampaignQuery:
    """A validated request."""

    request_id: str
    limit: int
    page: int
    include_children: bool
    include_archived: bool
    channels: frozenset[str] | None = None
    delivery_types: frozenset[str] | None = None
    statuses: frozenset[str] | None = None
    tags: tuple[str, ...] = ()
    creators: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    campaign_id: str | None = None
    name: str | None = None

    def matches(self, campaign: Campaign) -> bool:
        """Whether a campaign passes every filter (tags: any; name: case-insensitive part)."""
        created = date.fromisoformat(campaign.created_at[:10])
        return (
            (self.include_children or campaign.parent_id is None)
            and (self.include_archived or not campaign.archived)
            and (self.channels is None or campaign.channel in self.channels)
            and (self.delivery_types is None or campaign.delivery_type in self.delivery_types)
            and (self.statuses is None or campaign.status in self.statuses)
            and (not self.tags or bool(set(self.tags) & set(campaign.tags)))
            and (not self.creators or campaign.created_by in self.creators)
            and (self.first_day is None or created >= self.first_day)
            and (self.last_day is None or created <= self.last_day)
            and (self.campaign_id is None or campaign.campaign_id == self.campaign_id)
            and (self.name is None or self.name.lower() in campaign.name.lower())
        )

    def page_of(self, campaigns: Sequence[Campaign]) -> list[Campaign]:
        """The requested page of the matching campaigns."""
        matching = [c for c in campaigns if self.matches(c)]
        return matching[(self.page - 1) * self.limit : self.page * self.limit]


def _mandatory_int(body: Mapping[str, Any], name: str, low: int, high: int | None) -> int:
    value = body.get(name)
    if value is None:
        raise QueryError(name, f"{name} key is mandatory field")
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        bound = f"between {low} and {high}" if high else f"greater than or equal to {low}"
        raise QueryError(name, f"{name} should be an integer {bound}")
    if high is not None and value > high:
        raise QueryError(name, f"{name} should be an integer between {low} and {high}")
    return value


def _strings(fields: Mapping[str, Any], name: str) -> tuple[str, ...]:
    values = fields.get(name)
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise QueryError(f"campaign_fields.{name}", f"{name} should be a list of strings")
    return tuple(values)


def _enum(fields: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> frozenset[str] | None:
    if fields.get(name) is None:
        return None
    values = _strings(fields, name)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise QueryError(
            f"campaign_fields.{name}",
            f"{unknown[0]} is not a valid value; allowed: {', '.join(allowed)}",
        )
    return frozenset(values)


def _day(value: Any, target: str) -> date:
    """``YYYY-MM-DD`` or ``DD-MM-YYYY``."""
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
        try:
            return date(int(value[6:10]), int(value[3:5]), int(value[0:2]))
        except ValueError:
            pass
    field_name = target.rsplit(".", 1)[-1]
    raise QueryError(target, f"{field_name} should be a date as YYYY-MM-DD or DD-MM-YYYY")


def parse_query(body: Any, rules: QueryRules) -> CampaignQuery:
    """Validate a search/meta request body.

    Raises:
        QueryError: The first problem found.
    """
    if not isinstance(body, dict):
        raise QueryError("body", "request body should be a JSON object")
    request_id = body.get("request_id")
    if request_id is None:
        raise QueryError("request_id", "request_id key is mandatory field")
    if not isinstance(request_id, str) or not request_id:
        raise QueryError("request_id", "request_id should be a non-empty string")
    limit = _mandatory_int(body, "limit", 1, limits.CAMPAIGN_SEARCH_MAX_LIMIT)
    page = _mandatory_int(body, "page", 1, None)
    flags = {}
    for name in ("include_child_campaigns", "include_archive_campaigns"):
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise QueryError(name, f"{name} should be a boolean")
        flags[name] = value
    fields = body.get("campaign_fields") or {}
    if not isinstance(fields, dict):
        raise QueryError("campaign_fields", "campaign_fields should be an object")
    first = last = None
    created = fields.get("created_date")
    if created is not None:
        target = "campaign_fields.created_date"
        if not isinstance(created, dict):
            raise QueryError(target, "created_date should be an object")
        if rules.created_date_needs_both:
            for name in ("from_date", "to_date"):
                if created.get(name) is None:
                    raise QueryError(f"{target}.{name}", f"{name} key is mandatory field")
        if created.get("from_date") is not None:
            first = _day(created["from_date"], f"{target}.from_date")
        if created.get("to_date") is not None:
            last = _day(created["to_date"], f"{target}.to_date")
    text: dict[str, str | None] = {}
    for name in ("id", "name"):
        value = fields.get(name)
        if value is not None and not isinstance(value, str):
            raise QueryError(f"campaign_fields.{name}", f"{name} should be a string")
        text[name] = value
    return CampaignQuery(
        request_id=request_id,
        limit=limit,
        page=page,
        include_children=flags["include_child_campaigns"],
        include_archived=flags["include_archive_campaigns"],
        channels=_enum(fields, "channels", rules.channels),
        delivery_types=_enum(fields, "delivery_type", rules.delivery_types),
        statuses=_enum(fields, "status", rules.statuses),
        tags=_strings(fields, "tags"),
        creators=_strings(fields, "created_by"),
        first_day=first,
        last_day=last,
        campaign_id=text["id"],
        name=text["name"],
    )
