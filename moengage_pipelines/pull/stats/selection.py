"""Which days and which campaigns a stats pull asks for.

Days: the requested ones plus a lookback, because conversions restate. Campaigns: the ids in
``moengage_campaigns`` (written by the campaigns pull) created by the day, the campaigns
MoEngage lists as active that day, or explicit ids.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_TABLE
from moengage_pipelines.warehouse import Warehouse

__all__ = ["CampaignSelection", "campaign_parents", "pulled_campaign_ids", "stats_days"]

CampaignSelection = Literal["pulled", "active"] | Sequence[str]
"""Which campaigns to ask stats for: ``"pulled"`` (every campaign of ``moengage_campaigns``
created by the day, 10 per request), ``"active"`` (let MoEngage list the campaigns active that
day, paged), or explicit ids."""


def stats_days(
    end: date,
    lookback_days: int = 3,
    *,
    start: date | None = None,
    today: date | None = None,
) -> list[date]:
    """The days a stats pull for ``start..end`` covers with its restatement lookback.

    Conversions are attributed after the message is sent, so a day's numbers keep changing
    for a while; each pull re-reads the ``lookback_days - 1`` days before ``start`` too.
    Days after ``today`` are left out (MoEngage has nothing for them yet).

    Args:
        end: Last day (inclusive).
        lookback_days: Days ending at ``start`` to (re-)pull, at least 1.
        start: First requested day (default ``end``).
        today: Today in UTC (default: now).

    Returns:
        Days in ascending order.
    """
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    start = start or end
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    today = today or datetime.now(UTC).date()
    first = start - timedelta(days=lookback_days - 1)
    return [
        first + timedelta(days=offset)
        for offset in range((end - first).days + 1)
        if first + timedelta(days=offset) <= today
    ]


def pulled_campaign_ids(warehouse: Warehouse, day: date) -> list[str] | None:
    """Ids of the pulled campaigns (``moengage_campaigns``) created on or before ``day``.

    Returns:
        The ids (possibly empty), or None when the campaigns table does not exist or is empty
        (the caller then asks MoEngage for the campaigns active that day).
    """
    if not warehouse.table_exists(CAMPAIGNS_TABLE):
        return None
    name = warehouse.table_name(CAMPAIGNS_TABLE).sql
    table = warehouse.query(f"SELECT campaign_id, created_at FROM {name} ORDER BY campaign_id")
    if table.num_rows == 0:
        return None
    day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    ids = []
    for campaign_id, created_at in zip(
        table.column("campaign_id").to_pylist(), table.column("created_at").to_pylist(), strict=True
    ):
        if created_at is not None and created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        # A campaign created after the day cannot have numbers for it.
        if created_at is None or created_at < day_end:
            ids.append(campaign_id)
    return ids


def campaign_parents(warehouse: Warehouse) -> dict[str, str]:
    """Child campaign id → parent id, from ``moengage_campaigns`` (empty when it does not exist)."""
    if not warehouse.table_exists(CAMPAIGNS_TABLE):
        return {}
    name = warehouse.table_name(CAMPAIGNS_TABLE).sql
    table = warehouse.query(
        f"SELECT campaign_id, parent_id FROM {name} WHERE parent_id IS NOT NULL"
    )
    return dict(
        zip(
            table.column("campaign_id").to_pylist(),
            table.column("parent_id").to_pylist(),
            strict=True,
        )
    )
