"""Names and Arrow schemas of the tables the pulls write.

Every table has a fixed schema, so an empty day still creates (or empties) its table with the
right columns, and DuckDB and Postgres get the same column types.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from moengage_pipelines.pull.normalization import DAILY_METRICS

__all__ = [
    "CAMPAIGNS_SCHEMA",
    "CAMPAIGNS_TABLE",
    "STATS_DAILY_SCHEMA",
    "STATS_DAILY_TABLE",
    "STATS_SCHEMA",
    "STATS_TABLE",
    "report_table_name",
    "to_arrow",
]

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

CAMPAIGNS_TABLE = "moengage_campaigns"
CAMPAIGNS_SCHEMA = pa.schema(
    [
        pa.field("campaign_id", pa.string(), nullable=False),
        pa.field("parent_id", pa.string()),
        pa.field("flow_id", pa.string()),
        pa.field("flow_name", pa.string()),
        pa.field("name", pa.string()),
        pa.field("channel", pa.string()),
        pa.field("delivery_type", pa.string()),
        pa.field("status", pa.string()),
        pa.field("status_raw", pa.string()),
        pa.field("content_type", pa.string()),
        pa.field("team", pa.string()),
        pa.field("created_by", pa.string()),
        pa.field("updated_by", pa.string()),
        pa.field("created_at", UTC_TIMESTAMP),
        pa.field("updated_at", UTC_TIMESTAMP),
        pa.field("sent_time", UTC_TIMESTAMP),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("platforms", pa.list_(pa.string())),
        pa.field("raw_json", pa.string()),
        pa.field("pulled_at", UTC_TIMESTAMP),
    ]
)
"""One row per campaign (children included); ``raw_json`` holds the item exactly as received."""

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
        pa.field("pulled_at", UTC_TIMESTAMP),
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
        pa.field("pulled_at", UTC_TIMESTAMP),
    ]
)
"""Wide stats: one row per (day, campaign, platform, attribution type, metric type)."""

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def report_table_name(report_name: str) -> str:
    """Table of one configured report: ``moengage_report_<name in snake case>``.

    Args:
        report_name: The report's name as configured in the dashboard, e.g. ``"Daily Push"``.

    Raises:
        ValueError: If the name has no letter or digit.
    """
    slug = _NOT_WORD.sub("_", report_name.lower()).strip("_")
    if not slug:
        raise ValueError(f"report name {report_name!r} has no letter or digit")
    return f"moengage_report_{slug}"


def to_arrow(records: Iterable[Mapping[str, Any]], schema: pa.Schema) -> pa.Table:
    """Build a table with exactly ``schema`` from records (missing keys become NULL)."""
    return pa.Table.from_pylist(list(records), schema=schema)
