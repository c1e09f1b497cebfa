"""The stats tables as one model: declared keys, the summable view, earlier layouts migrated.

* ``moengage_campaigns``: one row per campaign, keyed by ``campaign_id``.
* ``moengage_campaign_stats_daily``: the daily facts, keyed by (date, campaign, platform,
  locale, variation, attribution type, metric type).
* ``moengage_campaign_stats_summable`` (a view): the daily facts an analyst may ``SUM``
  directly: only the rows that count each message once (``in_campaign_total``), without a
  periodic child whose parent has numbers that day (the parent's numbers include its runs),
  with the campaign's name and channel.

A daily table written by an older layout (one row per campaign and platform, no locale or
variation, no key) is rebuilt from the tidy table, which holds every number MoEngage sent.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import date

import pyarrow as pa

from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_LAYOUT, CAMPAIGNS_TABLE
from moengage_pipelines.pull.stats.daily import ADDITIVE_METRICS, DAILY_KEY, daily_rows
from moengage_pipelines.pull.stats.normalize import StatRow
from moengage_pipelines.pull.stats.tables import (
    STATS_DAILY_LAYOUT,
    STATS_DAILY_SCHEMA,
    STATS_DAILY_TABLE,
    STATS_LAYOUT,
    STATS_TABLE,
)
from moengage_pipelines.warehouse import (
    Warehouse,
    WarehouseError,
    drop_view,
    ensure_layout,
    quote_identifier,
    replace_view,
)

__all__ = [
    "SUMMABLE_VIEW",
    "campaign_channels",
    "prepare_stats_tables",
    "refresh_summable_view",
    "summable_view_sql",
]

logger = logging.getLogger(__name__)

SUMMABLE_VIEW = "moengage_campaign_stats_summable"
_PREVIOUS_SUFFIX = "_rebuilding"


def summable_view_sql(warehouse: Warehouse) -> str:
    """The ``SELECT`` behind :data:`SUMMABLE_VIEW` (same text on DuckDB and PostgreSQL)."""
    daily = warehouse.table_name(STATS_DAILY_TABLE).sql
    campaigns = warehouse.table_name(CAMPAIGNS_TABLE).sql
    keys = [f"f.{quote_identifier(column)}" for column in DAILY_KEY]
    counts = [f"f.{quote_identifier(column)}" for column in ADDITIVE_METRICS]
    same_day = " AND ".join(
        f"p.{quote_identifier(column)} = f.{quote_identifier(column)}"
        for column in ("date", "attribution_type", "metric_type")
    )
    return (
        f"SELECT {', '.join(keys[:2])}, c.name AS campaign_name, c.channel, c.parent_id, "
        f"{', '.join(keys[2:])}, {', '.join(counts)} "
        f"FROM {daily} AS f LEFT JOIN {campaigns} AS c ON c.campaign_id = f.campaign_id "
        "WHERE f.in_campaign_total AND NOT EXISTS ("
        f"SELECT 1 FROM {daily} AS p WHERE c.parent_id IS NOT NULL "
        f"AND p.campaign_id = c.parent_id AND {same_day})"
    )


def refresh_summable_view(warehouse: Warehouse) -> None:
    """Create the summable view when it is missing and both tables it reads exist."""
    if warehouse.table_exists(SUMMABLE_VIEW):
        return
    if not warehouse.table_exists(STATS_DAILY_TABLE):
        return
    ensure_layout(warehouse, CAMPAIGNS_LAYOUT)
    try:
        replace_view(warehouse, SUMMABLE_VIEW, summable_view_sql(warehouse))
    except WarehouseError:
        # Another pull may have created it meanwhile; only a view still missing is an error.
        if not warehouse.table_exists(SUMMABLE_VIEW):
            raise


def prepare_stats_tables(warehouse: Warehouse) -> list[str]:
    """Bring the stats tables to their declared layouts before a pull writes them.

    Returns:
        Notes on what was migrated (empty when nothing was).
    """
    notes: list[str] = []
    columns = warehouse.columns(STATS_DAILY_TABLE)
    if columns and not set(STATS_DAILY_SCHEMA.names) <= set(columns):
        days = _rebuild_daily_table(warehouse)
        notes.append(
            f"{STATS_DAILY_TABLE} had an older layout (no locale, variation or key); it was "
            f"rebuilt from {STATS_TABLE} ({days} day(s)) at the grain {', '.join(DAILY_KEY)}"
        )
        logger.warning("campaign stats: %s", notes[-1])
    ensure_layout(warehouse, STATS_LAYOUT)
    ensure_layout(warehouse, STATS_DAILY_LAYOUT)
    return notes


def campaign_channels(warehouse: Warehouse) -> dict[str, str | None]:
    """Campaign id → channel, from ``moengage_campaigns`` (empty when it does not exist)."""
    if not warehouse.table_exists(CAMPAIGNS_TABLE):
        return {}
    name = warehouse.table_name(CAMPAIGNS_TABLE).sql
    table = warehouse.query(f"SELECT campaign_id, channel FROM {name}")
    return dict(
        zip(
            table.column("campaign_id").to_pylist(),
            table.column("channel").to_pylist(),
            strict=True,
        )
    )


def _rebuild_daily_table(warehouse: Warehouse) -> int:
    """Rebuild the daily table from the tidy one under a new name, then swap it in."""
    drop_view(warehouse, SUMMABLE_VIEW)  # PostgreSQL drops no table a view reads
    target = warehouse.table_name(STATS_DAILY_TABLE)
    staging = f"{target.schema + '.' if target.schema else ''}{target.name}{_PREVIOUS_SUFFIX}"
    warehouse.drop_table(staging)
    ensure_layout(warehouse, dataclasses.replace(STATS_DAILY_LAYOUT, name=staging))
    days: list[date] = []
    if warehouse.table_exists(STATS_TABLE):
        tidy = warehouse.table_name(STATS_TABLE).sql
        days = warehouse.query(f"SELECT DISTINCT date FROM {tidy} ORDER BY 1").column(0).to_pylist()
        channels = campaign_channels(warehouse)
        for day in days:
            records = warehouse.query(f"SELECT * FROM {tidy} WHERE date = $1", [day]).to_pylist()
            rows = [_stat_row(record) for record in records]
            table = pa.Table.from_pylist(daily_rows(rows, channels), schema=STATS_DAILY_SCHEMA)
            warehouse.append(staging, table)
    warehouse.drop_table(STATS_DAILY_TABLE)
    warehouse.execute(
        f"ALTER TABLE {warehouse.table_name(staging).sql} RENAME TO {quote_identifier(target.name)}"
    )
    return len(days)


def _stat_row(record: dict) -> StatRow:
    return StatRow(
        day=record["date"],
        campaign_id=record["campaign_id"],
        platform=record["platform"],
        platform_raw=record["platform_raw"],
        locale=record["locale"],
        locale_raw=record["locale_raw"],
        variation=record["variation"],
        variation_raw=record["variation_raw"],
        section=record["section"],
        metric=record["metric"],
        value=record["value"],
        value_text=record["value_text"],
        attribution_type=record["attribution_type"],
        metric_type=record["metric_type"],
        pulled_at=record["pulled_at"],
        entry=record["entry"] or 0,
    )
