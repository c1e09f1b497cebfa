"""The campaign-stats tables: names and fixed Arrow schemas of the tidy and the wide table.

A fixed schema gives DuckDB and Postgres the same column types, and a day without numbers
still creates (or empties) its tables with the right columns.
"""

from __future__ import annotations

import pyarrow as pa

from moengage_pipelines.pull.stats.daily import ADDITIVE_METRICS, DAILY_KEY, RATE_COLUMNS
from moengage_pipelines.warehouse import TableLayout

__all__ = [
    "STATS_DAILY_LAYOUT",
    "STATS_DAILY_SCHEMA",
    "STATS_DAILY_TABLE",
    "STATS_LAYOUT",
    "STATS_SCHEMA",
    "STATS_TABLE",
]

_UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

STATS_TABLE = "moengage_campaign_stats"
STATS_SCHEMA = pa.schema(
    [
        pa.field("date", pa.date32(), nullable=False),
        pa.field("campaign_id", pa.string(), nullable=False),
        pa.field("platform", pa.string()),
        pa.field("platform_raw", pa.string()),
        pa.field("locale", pa.string()),
        pa.field("locale_raw", pa.string()),
        pa.field("variation", pa.string()),
        pa.field("variation_raw", pa.string()),
        pa.field("section", pa.string()),
        pa.field("metric", pa.string()),
        pa.field("value", pa.float64()),
        pa.field("value_text", pa.string()),
        pa.field("attribution_type", pa.string()),
        pa.field("metric_type", pa.string()),
        pa.field("entry", pa.int32()),
        pa.field("pulled_at", _UTC_TIMESTAMP),
    ]
)
"""Tidy stats: one row per (day, campaign, platform, locale, variation, section, metric)."""

STATS_DAILY_TABLE = "moengage_campaign_stats_daily"
STATS_DAILY_SCHEMA = pa.schema(
    [
        pa.field("date", pa.date32(), nullable=False),
        *[pa.field(name, pa.string(), nullable=False) for name in DAILY_KEY[1:]],
        *[pa.field(name, pa.float64()) for name in ADDITIVE_METRICS],
        pa.field("goals", pa.int32()),
        *[pa.field(name, pa.float64()) for name in RATE_COLUMNS],
        pa.field("in_campaign_total", pa.bool_(), nullable=False),
        pa.field("pulled_at", _UTC_TIMESTAMP),
    ]
)
"""Daily facts: one row per (date, campaign, platform, locale, variation, attribution type,
metric type), the primary key."""

STATS_LAYOUT = TableLayout(STATS_TABLE, STATS_SCHEMA, indexes=(("date", "campaign_id"),))
"""The tidy table has no key of its own (a metric's path is its key); it is indexed by day."""
STATS_DAILY_LAYOUT = TableLayout(STATS_DAILY_TABLE, STATS_DAILY_SCHEMA, primary_key=DAILY_KEY)
