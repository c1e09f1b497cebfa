"""The campaign-stats tables: names and fixed Arrow schemas of the tidy and the wide table.

A fixed schema gives DuckDB and Postgres the same column types, and a day without numbers
still creates (or empties) its tables with the right columns.
"""

from __future__ import annotations

import pyarrow as pa

from moengage_pipelines.pull.stats.daily import DAILY_METRICS

__all__ = ["STATS_DAILY_SCHEMA", "STATS_DAILY_TABLE", "STATS_SCHEMA", "STATS_TABLE"]

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
        pa.field("campaign_id", pa.string(), nullable=False),
        pa.field("platform", pa.string()),
        pa.field("attribution_type", pa.string()),
        pa.field("metric_type", pa.string()),
        *[
            pa.field(name, pa.int32() if name == "goals" else pa.float64())
            for name in DAILY_METRICS
        ],
        pa.field("ctr", pa.float64()),
        pa.field("delivery_rate", pa.float64()),
        pa.field("conversion_rate", pa.float64()),
        pa.field("pulled_at", _UTC_TIMESTAMP),
    ]
)
"""Wide stats: one row per (day, campaign, platform, attribution type, metric type)."""
