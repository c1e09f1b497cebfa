"""Campaigns (legacy v1): ``POST /core-services/v1/campaigns/search``.

The request is validated and filtered by ``campaign_query`` (shared with the meta API, which
allows more enum values); the answer is a bare array of the page.
"""

from __future__ import annotations

from typing import Any

from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.campaign_catalog import Campaign, catalogue
from moengage_pipelines.emulator.campaign_query import (
    DELIVERY_TYPES,
    CampaignQuery,
    QueryError,
    QueryRules,
    parse_query,
)
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.routing import Route, Router
from moengage_pipelines.emulator.state import EmulatorState

__all__ = ["SEARCH_RULES", "register", "requested_page", "search_item"]

SEARCH_RULES = QueryRules(
    channels=("PUSH", "EMAIL", "SMS"),
    delivery_types=DELIVERY_TYPES,
    statuses=("ACTIVE", "SCHEDULED", "PAUSED", "SENT", "STOPPED", "ARCHIVED"),
)


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


def requested_page(call: Call, rules: QueryRules) -> tuple[CampaignQuery, list[Campaign]]:
    """Validate a search/meta request (400 in the campaigns envelope) and pick its page.

    Returns:
        The query and the page of the workspace's catalogue it asks for.
    """
    try:
        query = parse_query(call.json(), rules)
    except QueryError as error:
        raise call.fail(400, error.message, type="Bad Request", attribute=error.target) from None
    return query, query.page_of(catalogue(call.ws))


def search(call: Call) -> Response:
    """Filter the workspace's catalogue; the answer is a bare JSON array (no envelope)."""
    query, page = requested_page(call, SEARCH_RULES)
    return call.ok([search_item(c, with_children=query.include_children) for c in page])


def register(router: Router, state: EmulatorState) -> None:
    """Add the campaigns routes."""
    router.add(
        Route(
            "POST",
            "/core-services/v1/campaigns/search",
            "campaigns_search",
            search,
            family="campaigns",
            auth="campaign",
            appkey="required",
            max_bytes=state.settings.data_api_max_bytes,
            pools=("campaigns",),
        )
    )
