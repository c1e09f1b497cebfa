"""Normalize the campaigns: one search item → one ``moengage_campaigns`` row.

The search shape (``basic_details.name``...) is read first, the meta shape
(``campaign_name``, ``campaign_tags``...) as a fallback, and the whole item is kept as JSON, so
no key is ever lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from moengage_pipelines.pull.campaigns.fetch import campaign_id_of
from moengage_pipelines.pull.issues import ShapeIssue

__all__ = ["campaign_record", "parse_timestamp"]

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
        pulled_at: When the campaigns were pulled.

    Returns:
        ``(row, issues)``; a timestamp that cannot be read becomes NULL and an issue.
    """
    campaign_id = campaign_id_of(item) or ""
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
