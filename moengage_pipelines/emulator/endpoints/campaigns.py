"""Campaigns (legacy v1): ``POST /core-services/v1/campaigns/search``."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from moengage_pipelines import limits
from moengage_pipelines.emulator.campaign_catalog import Campaign, catalogue
from moengage_pipelines.emulator.envelopes import CAMPAIGNS
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.routing import Route, Router

if TYPE_CHECKING:
    from moengage_pipelines.emulator.core import Call, Emulator

__all__ = ["register", "search_item"]

CHANNELS = ("PUSH", "EMAIL", "SMS")
DELIVERY_TYPES = (
    "ONE_TIME",
    "PERIODIC",
    "EVENT_TRIGGERED",
    "BUSINESS_EVENT_TRIGGERED",
    "DEVICE_TRIGGERED",
    "LOCATION_TRIGGERED",
    "BROADCAST_LIVE_ACTIVITY",
)
STATUSES = ("ACTIVE", "SCHEDULED", "PAUSED", "SENT", "STOPPED", "ARCHIVED")


def _bad(call: Call, target: str, message: str) -> Exception:
    return call.fail(400, message, type="Bad Request", attribute=target)


def _enum_list(
    call: Call, fields: dict[str, Any], name: str, allowed: tuple[str, ...]
) -> set[str] | None:
    values = fields.get(name)
    if values is None:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _bad(call, f"campaign_fields.{name}", f"{name} should be a list of strings")
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise _bad(
            call,
            f"campaign_fields.{name}",
            f"{unknown[0]} is not a valid value; allowed: {', '.join(allowed)}",
        )
    return set(values)


def _date(call: Call, value: Any, target: str) -> date:
    if isinstance(value, str):
        for parse in (date.fromisoformat, lambda t: date(int(t[6:10]), int(t[3:5]), int(t[0:2]))):
            try:
                return parse(value)
            except (ValueError, IndexError):
                continue
    raise _bad(call, target, f"{target.rsplit('.', 1)[-1]} should be a date as YYYY-MM-DD")


def search_item(campaign: Campaign, *, with_children: bool) -> dict[str, Any]:
    """One campaign as the search API returns it (status in title case, as in the examples)."""
    details: dict[str, Any] = {"name": campaign.name, "tags": list(campaign.tags)}
    item: dict[str, Any] = {
        "campaign_id": campaign.campaign_id,
        "status": campaign.status.title(),
        "channel": campaign.channel,
        "campaign_delivery_type": campaign.delivery_type,
        "created_by": campaign.created_by,
        "updated_by": campaign.created_by,
        "created_at": campaign.created_at,
        "updated_at": campaign.created_at,
        "sent_time": campaign.created_at[:19],
        "basic_details": details,
    }
    if campaign.channel == "PUSH":
        details["platforms"] = list(campaign.platforms)
    elif campaign.channel == "EMAIL":
        details.update(content_type="PROMOTIONAL", subscription_category="marketing")
        item["connector"] = {"connector_type": "SENDGRID", "connector_name": "default"}
    else:
        item["sender_name"] = "MoEngage"
        item["connector"] = {"connector_type": "SMS_GATEWAY", "connector_name": "default"}
    if with_children:
        if campaign.parent_id:
            item["parent_id"] = campaign.parent_id
        if campaign.flow:
            item["flow_id"], item["flow_name"] = campaign.flow
    return item


def search(call: Call) -> Response:
    """Filter the workspace's catalogue; the answer is a bare JSON array (no envelope)."""
    body = call.json()
    if not isinstance(body, dict):
        raise _bad(call, "body", "request body should be a JSON object")
    request_id = body.get("request_id")
    if request_id is None:
        raise _bad(call, "request_id", "request_id key is mandatory field")
    if not isinstance(request_id, str) or not request_id:
        raise _bad(call, "request_id", "request_id should be a non-empty string")
    limit, page = body.get("limit"), body.get("page")
    if limit is None:
        raise _bad(call, "limit", "limit key is mandatory field")
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= limits.CAMPAIGN_SEARCH_MAX_LIMIT
    ):
        raise _bad(
            call,
            "limit",
            f"limit should be an integer between 1 and {limits.CAMPAIGN_SEARCH_MAX_LIMIT}",
        )
    if page is None:
        raise _bad(call, "page", "page key is mandatory field")
    if isinstance(page, bool) or not isinstance(page, int) or page < 1:
        raise _bad(call, "page", "page should be an integer greater than or equal to 1")
    flags = {}
    for name in ("include_child_campaigns", "include_archive_campaigns"):
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise _bad(call, name, f"{name} should be a boolean")
        flags[name] = value
    fields = body.get("campaign_fields") or {}
    if not isinstance(fields, dict):
        raise _bad(call, "campaign_fields", "campaign_fields should be an object")
    channels = _enum_list(call, fields, "channels", CHANNELS)
    delivery = _enum_list(call, fields, "delivery_type", DELIVERY_TYPES)
    statuses = _enum_list(call, fields, "status", STATUSES)
    tags = fields.get("tags")
    creators = fields.get("created_by")
    for name, value in (("tags", tags), ("created_by", creators)):
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(v, str) for v in value)
        ):
            raise _bad(call, f"campaign_fields.{name}", f"{name} should be a list of strings")
    created = fields.get("created_date")
    first = last = None
    if created is not None:
        if not isinstance(created, dict):
            raise _bad(call, "campaign_fields.created_date", "created_date should be an object")
        if created.get("from_date") is not None:
            first = _date(call, created["from_date"], "campaign_fields.created_date.from_date")
        if created.get("to_date") is not None:
            last = _date(call, created["to_date"], "campaign_fields.created_date.to_date")
    wanted_id, name = fields.get("id"), fields.get("name")
    for label, value in (("id", wanted_id), ("name", name)):
        if value is not None and not isinstance(value, str):
            raise _bad(call, f"campaign_fields.{label}", f"{label} should be a string")

    def keep(c: Campaign) -> bool:
        created_day = date.fromisoformat(c.created_at[:10])
        return (
            (flags["include_child_campaigns"] or c.parent_id is None)
            and (flags["include_archive_campaigns"] or not c.archived)
            and (channels is None or c.channel in channels)
            and (delivery is None or c.delivery_type in delivery)
            and (statuses is None or c.status in statuses)
            and (not tags or bool(set(tags) & set(c.tags)))
            and (not creators or c.created_by in creators)
            and (first is None or created_day >= first)
            and (last is None or created_day <= last)
            and (wanted_id is None or c.campaign_id == wanted_id)
            and (name is None or name.lower() in c.name.lower())
        )

    matches = [c for c in catalogue(call.ws) if keep(c)]
    page_items = matches[(page - 1) * limit : page * limit]
    return call.ok(
        [search_item(c, with_children=flags["include_child_campaigns"]) for c in page_items]
    )


def register(router: Router, emulator: Emulator) -> None:
    """Add the campaigns routes."""
    router.add(
        Route(
            "POST",
            "/core-services/v1/campaigns/search",
            "campaigns_search",
            search,
            envelope=CAMPAIGNS,
            auth="campaign",
            appkey="required",
            max_bytes=emulator.settings.data_api_max_bytes,
            pools=("campaigns",),
        )
    )
