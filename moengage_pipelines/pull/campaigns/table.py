"""The ``moengage_campaigns`` table: its name and its fixed Arrow schema.

A fixed schema gives DuckDB and Postgres the same column types, and an empty answer still
creates (or empties) the table with the right columns.
"""

from __future__ import annotations

import pyarrow as pa

from moengage_pipelines.warehouse import TableLayout

__all__ = ["CAMPAIGNS_LAYOUT", "CAMPAIGNS_SCHEMA", "CAMPAIGNS_TABLE"]

_UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

CAMPAIGNS_TABLE = "moengage_campaigns"
CAMPAIGNS_SCHEMA = pa.schema(
    [
        pa.field("campaign_id", pa.string(), nullable=False),
        pa.field("parent_id", pa.string()),
        pa.field("is_parent", pa.bool_()),
        pa.field("is_child", pa.bool_()),
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
        pa.field("created_at", _UTC_TIMESTAMP),
        pa.field("updated_at", _UTC_TIMESTAMP),
        pa.field("sent_time", _UTC_TIMESTAMP),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("platforms", pa.list_(pa.string())),
        pa.field("raw_json", pa.string()),
        pa.field("pulled_at", _UTC_TIMESTAMP),
    ]
)
"""One row per campaign (children included); ``raw_json`` holds the item exactly as received.

``is_child``: the campaign has a ``parent_id`` (a periodic run). ``is_parent``: another pulled
campaign names it as its parent; MoEngage's numbers of a parent include its children's."""

CAMPAIGNS_LAYOUT = TableLayout(CAMPAIGNS_TABLE, CAMPAIGNS_SCHEMA, primary_key=("campaign_id",))
