"""Campaign stats: ``POST /core-services/v1/campaign-stats`` (formula in ``campaign_stats``)."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from moengage_pipelines import limits
from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.campaign_catalog import catalogue
from moengage_pipelines.emulator.campaign_stats import Activity, campaign_stats, has_activity
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.routing import Route, Router
from moengage_pipelines.emulator.state import EmulatorState

__all__ = ["register"]

ATTRIBUTION_TYPES = (
    "VIEW_THROUGH",
    "CLICK_THROUGH",
    "IN_SESSION",
    "TOTAL_CONVERSIONS",
    "CLICK_CONVERSIONS",
)
METRIC_TYPES = ("TOTAL", "UNIQUE")


def _invalid(call: Call, field: str, reason: str) -> Exception:
    return call.fail(400, f"{field} - {reason}", type="Invalid Field Value")


def _day(call: Call, body: dict[str, Any], field: str) -> date:
    value = body.get(field)
    if value is None:
        raise _invalid(call, field, "Missing data for required field.")
    if not isinstance(value, str) or len(value) != 10:
        raise _invalid(call, field, "Not a valid date, expected YYYY-MM-DD.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _invalid(call, field, "Not a valid date, expected YYYY-MM-DD.") from None


def _int(
    call: Call, body: dict[str, Any], field: str, default: int, low: int, high: int | None
) -> int:
    value = body.get(field, default)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise _invalid(call, field, f"Must be an integer {bound}.")
    return value


def stats(call: Call) -> Response:
    """Validate the request, then compute stats from the events received."""
    body = call.json()
    if not isinstance(body, dict):
        raise call.fail(400, "Request body must be a JSON object.", type="Invalid Field Value")
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not request_id:
        raise _invalid(call, "request_id", "Missing data for required field.")
    start, end = _day(call, body, "start_date"), _day(call, body, "end_date")
    if end < start:
        raise _invalid(call, "end_date", "end_date must not be before start_date.")
    if (end - start).days > limits.STATS_MAX_RANGE_DAYS:
        raise _invalid(
            call, "end_date", f"The range must not exceed {limits.STATS_MAX_RANGE_DAYS} days."
        )
    attribution, metric = body.get("attribution_type"), body.get("metric_type")
    if attribution not in ATTRIBUTION_TYPES:
        raise _invalid(call, "attribution_type", f"Must be one of: {', '.join(ATTRIBUTION_TYPES)}.")
    if metric not in METRIC_TYPES:
        raise _invalid(call, "metric_type", f"Must be one of: {', '.join(METRIC_TYPES)}.")
    ids = body.get("campaign_ids")
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _invalid(call, "campaign_ids", "Must be a list of strings.")
        if len(ids) > limits.STATS_MAX_CAMPAIGN_IDS:
            raise _invalid(
                call, "campaign_ids", f"Longer than maximum length {limits.STATS_MAX_CAMPAIGN_IDS}."
            )
    offset = _int(call, body, "offset", 0, 0, None)
    limit = _int(call, body, "limit", limits.STATS_MAX_PAGE_LIMIT, 1, limits.STATS_MAX_PAGE_LIMIT)

    activity = Activity(call.store.activity(call.ws, start.isoformat(), end.isoformat()))
    # API-triggered campaigns are not in the catalogue: "not available for API_TRIGGERED
    # campaigns", so they never have data, asked for by id or not.
    known = {c.campaign_id: c for c in catalogue(call.ws)}
    if ids is not None:
        # Requested ids the workspace does not have (or API-triggered ones) are counted but
        # have no data.
        selected = [known[i] for i in dict.fromkeys(ids) if i in known]
        total = len(dict.fromkeys(ids))
    else:
        # Without ids: every campaign (parents and children) active in the range.
        selected = [c for c in known.values() if has_activity(c, start, end, activity)]
        total = len(selected)
    page = selected[offset : offset + limit]
    data = {
        c.campaign_id: [
            campaign_stats(c, start, end, activity, attribution=attribution, metric=metric)
        ]
        for c in page
    }
    return call.ok(
        {
            "response_id": request_id,
            "total_campaigns": total,
            "current_page": offset // limit + 1,
            "total_pages": math.ceil(total / limit) if total else 0,
            "data": data,
        }
    )


def register(router: Router, state: EmulatorState) -> None:
    """Add the campaign-stats route."""
    router.add(
        Route(
            "POST",
            "/core-services/v1/campaign-stats",
            "campaign_stats",
            stats,
            family="stats",
            auth="campaign",
            appkey="required",
            max_bytes=state.settings.data_api_max_bytes,
            pools=("campaign_stats",),
        )
    )
