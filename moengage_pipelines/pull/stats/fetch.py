"""Fetch campaign stats: ``POST /core-services/v1/campaign-stats``, one day at a time.

To get numbers *per day* the pull asks for one day at a time (``start_date == end_date``): a
range request cannot be split into days afterwards. Each day costs
``ceil(campaigns / 10) × attribution types × metric types`` requests, paid from the
workspace's 100/min budget by the client. Paging follows ``total_pages`` with
``offset``/``limit``; a page that repeats campaigns already received is skipped and reported,
never counted twice. Each fresh page is flattened into tidy rows (:mod:`.normalize`) as it
arrives.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from moengage_pipelines.errors import AuthError, RequestRejectedError
from moengage_pipelines.limits import STATS_MAX_PAGE_LIMIT
from moengage_pipelines.pull.errors import (
    ResponseShapeError,
    StatsNotEnabledError,
    StatsRequestError,
)
from moengage_pipelines.pull.issues import ShapeIssue
from moengage_pipelines.pull.stats.normalize import StatRow, StatsContext, flatten_stats
from moengage_pipelines.pull.stats.request import (
    StatsOptions,
    batched,
    check_window,
    stats_payload,
)

__all__ = ["DayStats", "StatsClient", "fetch_day", "iter_stats_pages"]

logger = logging.getLogger(__name__)


class StatsClient(Protocol):
    """The part of ``MoEngageClient`` the stats pull needs."""

    def campaign_stats(self, payload: dict[str, Any]) -> dict[str, Any]:
        """POST one stats request and return the decoded body."""
        ...


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
