"""The campaign catalogue: ``POST /core-services/v1/campaigns/search``, every page, as rows.

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
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson

from moengage_pipelines.limits import CAMPAIGN_SEARCH_MAX_LIMIT
from moengage_pipelines.pull.errors import ResponseShapeError
from moengage_pipelines.pull.normalization import ShapeIssue

__all__ = [
    "ALL_CHANNELS",
    "CatalogueOptions",
    "CataloguePull",
    "SearchClient",
    "campaign_record",
    "fetch_campaigns",
    "iter_campaign_pages",
    "parse_timestamp",
]

logger = logging.getLogger(__name__)

ALL_CHANNELS: tuple[str, ...] = ("PUSH", "EMAIL", "SMS")
"""Every channel the search endpoint accepts."""


class SearchClient(Protocol):
    """The part of ``MoEngageClient`` the catalogue needs."""

    def search_campaigns(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        """POST one search page and return its bare array."""
        ...


@dataclass(frozen=True)
class CatalogueOptions:
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
class CataloguePull:
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


def _campaign_id(item: Mapping[str, Any]) -> str | None:
    # v1 says campaign_id, v5 says id; accept either so a switch of version keeps the rows.
    value = item.get("campaign_id", item.get("id"))
    return str(value) if value not in (None, "") else None


def iter_campaign_pages(
    client: SearchClient, options: CatalogueOptions | None = None
) -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(page_number, items)`` for every page of the search, stopping on a short page.

    Raises:
        ResponseShapeError: If a page is not a JSON array.
    """
    options = options or CatalogueOptions()
    run = uuid.uuid4().hex[:12]
    for page in range(1, options.max_pages + 1):
        items = client.search_campaigns(options.payload(page, f"catalogue-{run}-p{page}"))
        if not isinstance(items, list):
            raise ResponseShapeError(
                f"campaigns/search page {page} is a {type(items).__name__}, not the documented "
                "JSON array; no campaigns were written"
            )
        yield page, items
        if len(items) < options.page_size:
            return


def fetch_campaigns(client: SearchClient, options: CatalogueOptions | None = None) -> CataloguePull:
    """Page through the whole search and return each campaign once.

    Args:
        client: A ``MoEngageClient`` (or anything with ``search_campaigns``).
        options: What to search for.

    Returns:
        The campaigns and how the paging ended.
    """
    options = options or CatalogueOptions()
    result = CataloguePull(stop_reason="max_pages")
    seen: set[str] = set()
    for page, items in iter_campaign_pages(client, options):
        result.pages = page
        ids = [_campaign_id(item) if isinstance(item, Mapping) else None for item in items]
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


_TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


def parse_timestamp(value: Any) -> datetime | None:
    """Read a campaign timestamp (UTC) as MoEngage writes it.

    Accepts ``"YYYY-MM-DD HH:MM:SS[.ffffff]"`` (the search API), ISO 8601 with ``T`` and an
    optional offset or ``Z`` (the meta API), and epoch seconds or milliseconds.

    Returns:
        An aware UTC datetime, or None for a missing value.

    Raises:
        ValueError: If the value is present but not a timestamp.
    """
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {type(value).__name__}")
    text = value.strip()
    for layout in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            pass
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def _strings(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if item is not None]
    return [str(value)]


def campaign_record(
    item: Mapping[str, Any], pulled_at: datetime
) -> tuple[dict[str, Any], list[ShapeIssue]]:
    """Turn one search item into a ``moengage_campaigns`` row.

    Reads the search shape (``basic_details.name``...) and, as a fallback, the meta shape
    (``campaign_name``, ``campaign_tags``...). ``status`` is upper-cased (the API documents
    ``ACTIVE`` but answers ``Active``); ``status_raw`` keeps what was sent. The whole item is
    kept in ``raw_json`` so no key is ever lost.

    Args:
        item: One element of the search array.
        pulled_at: When the catalogue was pulled.

    Returns:
        ``(row, issues)``; a timestamp that cannot be read becomes NULL and an issue.
    """
    campaign_id = _campaign_id(item) or ""
    details = item.get("basic_details")
    details = details if isinstance(details, Mapping) else {}
    issues: list[ShapeIssue] = []

    def timestamp(key: str, *fallbacks: str) -> datetime | None:
        for name in (key, *fallbacks):
            if item.get(name) not in (None, ""):
                try:
                    return parse_timestamp(item[name])
                except (ValueError, OverflowError, OSError):
                    issues.append(
                        ShapeIssue(
                            f"campaign {campaign_id} {name}",
                            f"unreadable timestamp {item[name]!r}; stored as NULL "
                            "(raw_json keeps it)",
                        )
                    )
                    return None
        return None

    status_raw = _text(item.get("status", item.get("campaign_status")))
    row = {
        "campaign_id": campaign_id,
        "parent_id": _text(item.get("parent_id", item.get("parent_campaign_id"))),
        "flow_id": _text(item.get("flow_id")),
        "flow_name": _text(item.get("flow_name")),
        "name": _text(details.get("name", item.get("campaign_name", item.get("name")))),
        "channel": (_text(item.get("channel")) or "").upper() or None,
        "delivery_type": _text(item.get("campaign_delivery_type", item.get("delivery_type"))),
        "status": status_raw.strip().upper().replace(" ", "_") if status_raw else None,
        "status_raw": status_raw,
        "content_type": _text(details.get("content_type")),
        "team": _text(details.get("team", item.get("campaign_team"))),
        "created_by": _text(item.get("created_by")),
        "updated_by": _text(item.get("updated_by")),
        "created_at": timestamp("created_at"),
        "updated_at": timestamp("updated_at"),
        "sent_time": timestamp("sent_time", "campaign_start_time"),
        "tags": _strings(details.get("tags", item.get("campaign_tags", item.get("tags")))),
        "platforms": _strings(details.get("platforms", item.get("platform"))),
        "raw_json": orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode(),
        "pulled_at": pulled_at,
    }
    return row, issues
