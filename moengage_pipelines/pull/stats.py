"""Campaign stats: ``POST /core-services/v1/campaign-stats`` in batches, windows and pages.

MoEngage answers one set of numbers per campaign for the whole ``start_date..end_date`` range.
To get numbers *per day* the pull asks for one day at a time (``start_date == end_date``): a
range request cannot be split into days afterwards. Each day costs
``ceil(campaigns / 10) × attribution types × metric types`` requests, paid from the
workspace's 100/min budget by the client.

Limits enforced here before anything is sent: at most 10 campaign ids a request, a range of at
most 30 days, ``limit`` at most 10. Paging follows ``total_pages`` with ``offset``/``limit``;
a page that repeats campaigns already received is skipped and reported, never counted twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from moengage_pipelines.errors import AuthError, RequestRejectedError
from moengage_pipelines.limits import (
    STATS_MAX_CAMPAIGN_IDS,
    STATS_MAX_PAGE_LIMIT,
    STATS_MAX_RANGE_DAYS,
)
from moengage_pipelines.pull.errors import (
    ResponseShapeError,
    StatsNotEnabledError,
    StatsRequestError,
    StatsWindowError,
)
from moengage_pipelines.pull.normalization import (
    ShapeIssue,
    StatRow,
    StatsContext,
    flatten_stats,
)

__all__ = [
    "ATTRIBUTION_TYPES",
    "METRIC_TYPES",
    "DayStats",
    "StatsClient",
    "StatsOptions",
    "batched",
    "check_window",
    "days_between",
    "fetch_day",
    "iter_stats_pages",
    "stats_payload",
]

logger = logging.getLogger(__name__)

STATS_PATH = "/core-services/v1/campaign-stats"
ATTRIBUTION_TYPES = (
    "VIEW_THROUGH",
    "CLICK_THROUGH",
    "IN_SESSION",
    "TOTAL_CONVERSIONS",
    "CLICK_CONVERSIONS",
)
METRIC_TYPES = ("TOTAL", "UNIQUE")


class StatsClient(Protocol):
    """The part of ``MoEngageClient`` the stats pull needs."""

    def campaign_stats(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST one stats request and return the decoded body."""
        ...


@dataclass(frozen=True)
class StatsOptions:
    """Which numbers to pull.

    Attributes:
        attribution_types: Conversion attributions to request (each is its own request);
            default ``CLICK_THROUGH``, the conversion a marketer reads first.
        metric_types: ``TOTAL`` (every occurrence) and/or ``UNIQUE`` (distinct users).
        batch_size: Campaign ids per request, at most 10.
        page_limit: ``limit`` of each request, at most 10.
        max_pages: Safety stop for a server whose ``total_pages`` never ends.
    """

    attribution_types: Sequence[str] = ("CLICK_THROUGH",)
    metric_types: Sequence[str] = ("TOTAL",)
    batch_size: int = STATS_MAX_CAMPAIGN_IDS
    page_limit: int = STATS_MAX_PAGE_LIMIT
    max_pages: int = 1_000

    def __post_init__(self) -> None:
        _check_choices("attribution_types", self.attribution_types, ATTRIBUTION_TYPES)
        _check_choices("metric_types", self.metric_types, METRIC_TYPES)
        if not 1 <= self.batch_size <= STATS_MAX_CAMPAIGN_IDS:
            raise ValueError(
                f"batch_size must be between 1 and {STATS_MAX_CAMPAIGN_IDS}, got {self.batch_size}"
            )
        if not 1 <= self.page_limit <= STATS_MAX_PAGE_LIMIT:
            raise ValueError(
                f"page_limit must be between 1 and {STATS_MAX_PAGE_LIMIT}, got {self.page_limit}"
            )

    @property
    def combinations(self) -> list[tuple[str, str]]:
        """Every (attribution type, metric type) pair requested."""
        return [(a, m) for a in self.attribution_types for m in self.metric_types]


def _check_choices(name: str, given: Sequence[str], allowed: Sequence[str]) -> None:
    if isinstance(given, str) or not given:
        raise ValueError(f"{name} must be a non-empty list of {list(allowed)}")
    unknown = [value for value in given if value not in allowed]
    if unknown:
        raise ValueError(f"{name}: unknown value(s) {unknown}; expected some of {list(allowed)}")


def check_window(start: date, end: date) -> None:
    """Refuse a range MoEngage would refuse: reversed, or end more than 30 days after start.

    Raises:
        StatsWindowError: Naming both dates and the limit.
    """
    if end < start:
        raise StatsWindowError(f"stats range {start}..{end} ends before it starts")
    if (end - start).days > STATS_MAX_RANGE_DAYS:
        raise StatsWindowError(
            f"stats range {start}..{end} spans {(end - start).days} days; MoEngage allows at "
            f"most {STATS_MAX_RANGE_DAYS} between start_date and end_date. Split it (the pull "
            "asks one day at a time)."
        )


def batched(items: Sequence[str], size: int) -> list[list[str]]:
    """Split ids into consecutive batches of at most ``size``, dropping repeats."""
    unique = list(dict.fromkeys(items))
    return [unique[i : i + size] for i in range(0, len(unique), size)]


def stats_payload(
    *,
    request_id: str,
    start: date,
    end: date,
    attribution_type: str,
    metric_type: str,
    campaign_ids: Sequence[str] | None = None,
    offset: int = 0,
    limit: int = STATS_MAX_PAGE_LIMIT,
) -> dict[str, Any]:
    """Build one stats request body, checking MoEngage's limits first.

    Raises:
        StatsWindowError: If the range is reversed or longer than 30 days.
        ValueError: If there are more than 10 ids or ``limit`` is out of 1..10.
    """
    check_window(start, end)
    if campaign_ids is not None and len(campaign_ids) > STATS_MAX_CAMPAIGN_IDS:
        raise ValueError(
            f"{len(campaign_ids)} campaign ids in one stats request; MoEngage allows "
            f"{STATS_MAX_CAMPAIGN_IDS}"
        )
    if not 1 <= limit <= STATS_MAX_PAGE_LIMIT:
        raise ValueError(f"limit must be between 1 and {STATS_MAX_PAGE_LIMIT}, got {limit}")
    payload: dict[str, Any] = {
        "request_id": request_id,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
        "attribution_type": attribution_type,
        "metric_type": metric_type,
        "offset": offset,
        "limit": limit,
    }
    if campaign_ids is not None:
        payload["campaign_ids"] = list(campaign_ids)
    return payload


def _request(client: StatsClient, payload: dict[str, Any]) -> dict[str, Any]:
    described = (
        f"{payload['start_date']}..{payload['end_date']}, "
        f"{len(payload.get('campaign_ids', [])) or 'all'} campaign(s), "
        f"{payload['attribution_type']}/{payload['metric_type']}, offset {payload['offset']}"
    )
    try:
        return client.campaign_stats(payload)
    except AuthError as exc:
        if exc.status == 403:
            raise StatsNotEnabledError(
                f"MoEngage answered 403 ({exc.message}) to campaign-stats: the Stats API is not "
                "enabled for this workspace, or the key is not the Campaign/Report key. Ask "
                "MoEngage to enable it; nothing was written."
            ) from exc
        raise
    except RequestRejectedError as exc:
        raise StatsRequestError(
            f"MoEngage rejected the campaign-stats request ({described}): {exc.message}"
        ) from exc


def iter_stats_pages(
    client: StatsClient,
    *,
    start: date,
    end: date,
    attribution_type: str,
    metric_type: str,
    campaign_ids: Sequence[str] | None = None,
    page_limit: int = STATS_MAX_PAGE_LIMIT,
    max_pages: int = 1_000,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(page_number, response)`` for every page of one stats query.

    Page 1 is requested with offset 0; later pages follow ``total_pages`` of the first answer
    with ``offset = (page - 1) × limit``.

    Raises:
        StatsWindowError: For a range MoEngage would refuse (nothing is sent).
        StatsNotEnabledError: On 403.
        StatsRequestError: On another 4xx refusal.
        ResponseShapeError: If an answer is not an object with a ``data`` object.
    """
    check_window(start, end)
    request_id = f"stats-{uuid.uuid4().hex[:12]}"
    total_pages = 1
    page = 1
    while page <= min(total_pages, max_pages):
        payload = stats_payload(
            request_id=f"{request_id}-p{page}",
            start=start,
            end=end,
            attribution_type=attribution_type,
            metric_type=metric_type,
            campaign_ids=campaign_ids,
            offset=(page - 1) * page_limit,
            limit=page_limit,
        )
        response = _request(client, payload)
        if not isinstance(response, Mapping) or not isinstance(response.get("data"), Mapping):
            got = (
                type(response).__name__
                if not isinstance(response, Mapping)
                else (
                    "no 'data' object"
                    if response.get("data") is None
                    else f"'data' as {type(response['data']).__name__}"
                )
            )
            raise ResponseShapeError(
                f"campaign-stats answer for {start}..{end} page {page} has {got}; expected "
                "{'data': {campaign_id: [...]}, 'total_pages': n}. Nothing was written."
            )
        if page == 1:
            announced = response.get("total_pages")
            if isinstance(announced, int) and not isinstance(announced, bool) and announced >= 0:
                total_pages = max(announced, 1)
        yield page, dict(response)
        page += 1


@dataclass
class DayStats:
    """Everything pulled for one day.

    Attributes:
        day: The day.
        rows: Tidy metric rows of every batch, attribution type and metric type.
        issues: Parts of the answers that could not be read, with the path.
        requests: Stats requests sent.
        campaigns: Distinct campaigns that had numbers.
    """

    day: date
    rows: list[StatRow] = field(default_factory=list)
    issues: list[ShapeIssue] = field(default_factory=list)
    requests: int = 0
    campaigns: set[str] = field(default_factory=set)


def fetch_day(
    client: StatsClient,
    day: date,
    campaign_ids: Sequence[str] | None,
    options: StatsOptions | None = None,
    *,
    now: datetime | None = None,
) -> DayStats:
    """Pull every number of one day (``start_date = end_date = day``).

    Args:
        client: A ``MoEngageClient`` (or anything with ``campaign_stats``).
        day: The day.
        campaign_ids: Campaigns to ask for, sent 10 at a time; ``None`` asks MoEngage for
            every campaign active that day (paged by ``total_pages``); an empty list sends
            nothing.
        options: Attribution and metric types, batch size, page limit.
        now: Time stamped as ``pulled_at`` (default: the current UTC time).

    Returns:
        The day's rows and issues.
    """
    options = options or StatsOptions()
    pulled_at = now or datetime.now(UTC)
    result = DayStats(day)
    batches: list[list[str] | None] = (
        [None] if campaign_ids is None else list(batched(campaign_ids, options.batch_size))
    )
    for attribution_type, metric_type in options.combinations:
        context = StatsContext(day, attribution_type, metric_type, pulled_at)
        for batch in batches:
            seen: set[str] = set()
            pages = iter_stats_pages(
                client,
                start=day,
                end=day,
                attribution_type=attribution_type,
                metric_type=metric_type,
                campaign_ids=batch,
                page_limit=options.page_limit,
                max_pages=options.max_pages,
            )
            for page, response in pages:
                result.requests += 1
                data = response["data"]
                where = f"{day} {attribution_type}/{metric_type} page {page}"
                repeated = [c for c in data if str(c) in seen]
                if data and len(repeated) == len(data):
                    result.issues.append(
                        ShapeIssue(
                            where,
                            "every campaign on this page was on an earlier page; the server "
                            "seems to ignore 'offset', so paging stopped here",
                        )
                    )
                    break
                if repeated:
                    result.issues.append(
                        ShapeIssue(
                            where,
                            f"campaign(s) {repeated[:5]} already received on an earlier page; "
                            "the repeat was skipped so nothing is counted twice",
                        )
                    )
                fresh = {str(c): v for c, v in data.items() if str(c) not in seen}
                if not data and page > 1:
                    result.issues.append(ShapeIssue(where, "empty page inside total_pages"))
                rows, issues = flatten_stats(fresh, context)
                result.rows.extend(rows)
                result.issues.extend(
                    ShapeIssue(f"{where} {issue.path}", issue.reason) for issue in issues
                )
                seen.update(fresh)
                result.campaigns.update(fresh)
    for issue in result.issues:
        logger.warning("campaign-stats %s", issue)
    return result


def days_between(start: date, end: date) -> list[date]:
    """Every day from ``start`` to ``end`` inclusive."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
