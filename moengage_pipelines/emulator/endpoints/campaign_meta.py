"""Campaign meta (legacy v1): ``POST /core-services/v1/campaigns/meta``.

The request is the search request (``campaign_query``) with the meta API's wider enums:
channels add WHATSAPP, FACEBOOK, "GOOGLE ADS" and CONNECTORS, statuses add RETIRED, and a
``created_date`` needs both ends (``YYYY-MM-DD`` or ``DD-MM-YYYY``). The answer is a bare
array (at most ``limit`` ≤ 15) over the same seeded catalogue as search. Scheduled one-time,
event-triggered and business-event-triggered campaigns carry ``reachability_details``
(``campaign_reachability``); periodic parents carry ``total_child_campaigns``; children (with
``include_child_campaigns``) carry ``parent_campaign_id``. Requests spend the ``campaigns``
pool, shared with search.
"""

from __future__ import annotations

from typing import Any

import moengage_pipelines.emulator.campaign_reachability as campaign_reachability
from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.campaign_catalog import Campaign
from moengage_pipelines.emulator.campaign_query import DELIVERY_TYPES, QueryRules
from moengage_pipelines.emulator.endpoints.campaigns import requested_page
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.routing import Route, Router
from moengage_pipelines.emulator.state import EmulatorState
from moengage_pipelines.emulator.store import Store

__all__ = ["META_RULES", "meta_item", "register"]

META_RULES = QueryRules(
    channels=("EMAIL", "PUSH", "SMS", "WHATSAPP", "FACEBOOK", "GOOGLE ADS", "CONNECTORS"),
    delivery_types=DELIVERY_TYPES,
    statuses=("SCHEDULED", "ACTIVE", "PAUSED", "SENT", "STOPPED", "RETIRED", "ARCHIVED"),
    created_date_needs_both=True,
)
# "Available only for scheduled campaigns (one-time, business event-triggered, and
# event-triggered)".
REACHABLE_DELIVERY_TYPES = frozenset({"ONE_TIME", "EVENT_TRIGGERED", "BUSINESS_EVENT_TRIGGERED"})


def meta_item(
    campaign: Campaign, *, with_children: bool, store: Store, workspace: str, now: float
) -> dict[str, Any]:
    """One campaign as the meta API returns it (status in title case, as its examples)."""
    item: dict[str, Any] = {
        "campaign_id": campaign.campaign_id,
        "channel": campaign.channel,
        "platform": list(campaign.platforms) if campaign.channel == "PUSH" else [],
        "created_by": campaign.created_by,
        "campaign_delivery_type": campaign.delivery_type,
        "campaign_name": campaign.name,
        "campaign_team": campaign.created_by.split("@", 1)[0].title(),
        "campaign_tags": list(campaign.tags),
        "campaign_status": campaign.status.title(),
        "campaign_start_time": f"{campaign.created_at[:10]}T{campaign.created_at[11:19]}",
    }
    if campaign.status == "SCHEDULED" and campaign.delivery_type in REACHABLE_DELIVERY_TYPES:
        item["reachability_details"] = campaign_reachability.reachability(
            store, workspace, campaign, now
        )
    if campaign.parent_id is None and campaign.delivery_type == "PERIODIC":
        item["total_child_campaigns"] = len(campaign.children)
    if with_children:
        if campaign.parent_id is not None:
            item["parent_campaign_id"] = campaign.parent_id
        if campaign.flow:
            item["flow_id"], item["flow_name"] = campaign.flow
    return item


def meta(call: Call) -> Response:
    """Validate, filter the workspace's catalogue, answer the page as a bare array."""
    query, page = requested_page(call, META_RULES)
    return call.ok(
        [
            meta_item(
                c,
                with_children=query.include_children,
                store=call.store,
                workspace=call.ws,
                now=call.now,
            )
            for c in page
        ]
    )


def register(router: Router, state: EmulatorState) -> None:
    """Add the campaign meta route."""
    campaign_reachability.install(state.store)
    router.add(
        Route(
            "POST",
            "/core-services/v1/campaigns/meta",
            "campaigns_meta",
            meta,
            family="campaigns",
            auth="campaign",
            appkey="required",
            max_bytes=state.settings.data_api_max_bytes,
            pools=("campaigns",),
        )
    )
