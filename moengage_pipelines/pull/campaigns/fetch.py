"""Fetch the campaigns: ``POST /core-services/v1/campaigns/search``, every page.

The search answers a bare JSON array with no paging envelope, so paging stops at the first
page shorter than the page size. A server that ignores ``page`` would otherwise return page 1
forever; a full page whose campaigns were all seen already ends the paging with a reported
issue instead of looping or duplicating rows.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from moengage_pipelines.limits import CAMPAIGN_SEARCH_MAX_LIMIT
from moengage_pipelines.pull.errors import ResponseShapeError
from moengage_pipelines.pull.issues import ShapeIssue

__all__ = [
    "ALL_CHANNELS",
    "CampaignsOptions",
    "FetchedCampaigns",
    "SearchClient",
    "campaign_id_of",
    "fetch_campaigns",
    "iter_campaign_pages",
]

logger = logging.getLogger(__name__)

ALL_CHANNELS: tuple[str, ...] = ("PUSH", "EMAIL", "SMS")
"""Every channel the search endpoint accepts."""


class SearchClient(Protocol):
    """The part of ``MoEngageClient`` the campaigns pull needs."""

    def search_campaigns(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """POST one search page and return its bare array."""
        ...


@dataclass(frozen=True)
class CampaignsOptions:
    """What to search for.

    Attributes:
        channels: Channels to include (default: PUSH, EMAIL and SMS).
        include_child_campaigns: Include periodic children and flow nodes (default True:
            their stats are reported under their own ids).
        include_archive_campaigns: Include archived campaigns (default True, so stats of
            history can still be joined to a name).
        page_size: Campaigns per page, at most 15.
        max_pages: Safety stop for a server that never sends a short page.
        extra_filters: More ``campaign_fields`` filters (e.g. ``{"tags": ["sale"]}``).
    """

    channels: Sequence[str] = ALL_CHANNELS
    include_child_campaigns: bool = True
    include_archive_campaigns: bool = True
    page_size: int = CAMPAIGN_SEARCH_MAX_LIMIT
    max_pages: int = 10_000
    extra_filters: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= CAMPAIGN_SEARCH_MAX_LIMIT:
            raise ValueError(
                f"page_size must be between 1 and {CAMPAIGN_SEARCH_MAX_LIMIT}, got {self.page_size}"
            )
        unknown = sorted(set(self.channels) - set(ALL_CHANNELS))
        if unknown or not self.channels:
            raise ValueError(
                f"channels must be a non-empty subset of {list(ALL_CHANNELS)}, got "
                f"{list(self.channels)}"
            )

    @property
    def filtered(self) -> bool:
        """True when the search leaves some campaigns out (fewer channels, extra filters)."""
        return bool(self.extra_filters) or set(self.channels) != set(ALL_CHANNELS)

    def payload(self, page: int, request_id: str) -> dict[str, Any]:
        """The request body of one page."""
        fields = {"channels": list(self.channels), **dict(self.extra_filters)}
        return {
            "request_id": request_id,
            "campaign_fields": fields,
            "include_child_campaigns": self.include_child_campaigns,
            "include_archive_campaigns": self.include_archive_campaigns,
            "limit": self.page_size,
            "page": page,
        }


@dataclass
class FetchedCampaigns:
    """The campaigns found, and how the paging went.

    Attributes:
        campaigns: Raw search items, each campaign once, in the order received.
        pages: Pages requested.
        stop_reason: ``"short_page"``, ``"repeated_page"`` or ``"max_pages"``.
        issues: Items skipped or pages distrusted, with the reason.
    """

    campaigns: list[dict[str, Any]] = field(default_factory=list)
    pages: int = 0
    stop_reason: str = ""
    issues: list[ShapeIssue] = field(default_factory=list)


def campaign_id_of(item: Mapping[str, Any]) -> str | None:
    """The id of one search item, or None when it has none."""
    # v1 says campaign_id, v5 says id; accept either so a switch of version keeps the rows.
    value = item.get("campaign_id", item.get("id"))
    return str(value) if value not in (None, "") else None


def iter_campaign_pages(
    client: SearchClient, options: CampaignsOptions | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(page_number, items)`` for every page of the search, stopping on a short page.

    Raises:
        ResponseShapeError: If a page is not a JSON array.
    """
    options = options or CampaignsOptions()
    run = uuid.uuid4().hex[:12]
    for page in range(1, options.max_pages + 1):
        items = client.search_campaigns(options.payload(page, f"campaigns-{run}-p{page}"))
        if not isinstance(items, list):
            raise ResponseShapeError(
                f"campaigns/search page {page} is a {type(items).__name__}, not the documented "
                "JSON array; no campaigns were written"
            )
        yield page, items
        if len(items) < options.page_size:
            return


def fetch_campaigns(
    client: SearchClient, options: CampaignsOptions | None = None
) -> FetchedCampaigns:
    """Page through the whole search and return each campaign once.

    Args:
        client: A ``MoEngageClient`` (or anything with ``search_campaigns``).
        options: What to search for.

    Returns:
        The campaigns and how the paging ended.
    """
    options = options or CampaignsOptions()
    result = FetchedCampaigns(stop_reason="max_pages")
    seen: set[str] = set()
    for page, items in iter_campaign_pages(client, options):
        result.pages = page
        ids = [campaign_id_of(item) if isinstance(item, Mapping) else None for item in items]
        known = [campaign_id for campaign_id in ids if campaign_id is not None]
        if len(items) >= options.page_size and known and all(c in seen for c in known):
            # A full page of campaigns we already have: the server ignores `page`.
            result.issues.append(
                ShapeIssue(
                    f"campaigns/search page {page}",
                    "every campaign on this full page was already on an earlier page; the "
                    "server seems to ignore 'page', so paging stopped here",
                )
            )
            result.stop_reason = "repeated_page"
            logger.warning("campaigns/search: page %d repeats earlier pages; stopping", page)
            return result
        for position, (item, campaign_id) in enumerate(zip(items, ids, strict=True)):
            where = f"campaigns/search page {page} item {position}"
            if campaign_id is None:
                result.issues.append(ShapeIssue(where, "no campaign_id (nor id); item skipped"))
                continue
            if campaign_id in seen:
                result.issues.append(
                    ShapeIssue(where, f"campaign {campaign_id} already seen; duplicate skipped")
                )
                continue
            seen.add(campaign_id)
            result.campaigns.append(dict(item))
        if len(items) < options.page_size:
            result.stop_reason = "short_page"
    if result.stop_reason == "max_pages":
        result.issues.append(
            ShapeIssue("campaigns/search", f"stopped after max_pages={options.max_pages}")
        )
    return result
