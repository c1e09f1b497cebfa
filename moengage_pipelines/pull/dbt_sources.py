"""The pulled tables as a dbt source: ``docs/dbt/sources.yml``, written from the table schemas.

``python -m moengage_pipelines.pull.dbt_sources > models/moengage_sources.yml`` writes it for
a dbt project; the repository's copy is checked against this output by the tests, so it never
drifts from the tables. Keys get dbt's built-in ``not_null`` tests and a ``unique`` test (one
column, or an expression joining the key columns: dbt core has no multi-column test).
"""

from __future__ import annotations

import sys
from typing import Any

import yaml

from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_LAYOUT
from moengage_pipelines.pull.stats.daily import ADDITIVE_METRICS, DAILY_KEY
from moengage_pipelines.pull.stats.model import SUMMABLE_VIEW
from moengage_pipelines.pull.stats.tables import STATS_DAILY_LAYOUT, STATS_LAYOUT
from moengage_pipelines.warehouse import TableLayout

__all__ = ["SOURCE_NAME", "render_sources", "sources_document"]

SOURCE_NAME = "moengage"

_TABLES = {
    CAMPAIGNS_LAYOUT.name: "One row per MoEngage campaign, periodic runs (children) included.",
    STATS_LAYOUT.name: (
        "Every number of every campaign-stats answer, one row per day, campaign, platform, "
        "locale, variation, section and metric (lossless; for audits, not for sums)."
    ),
    STATS_DAILY_LAYOUT.name: (
        "Daily facts at the grain (date, campaign, platform, locale, variation, attribution "
        "type, metric type), aggregates included: sum only rows with in_campaign_total, or "
        f"use {SUMMABLE_VIEW}."
    ),
}
_COLUMNS = {
    "campaign_id": "MoEngage campaign id.",
    "parent_id": "Parent campaign of a periodic run (child); NULL otherwise.",
    "is_parent": "Another campaign names it as parent; its numbers include its children's.",
    "is_child": "A periodic run of a parent campaign.",
    "flow_id": "Flow the campaign belongs to.",
    "name": "Campaign name.",
    "channel": "PUSH, EMAIL or SMS.",
    "date": "The day the numbers are for (UTC).",
    "platform": (
        "As pushed events spell it: ANDROID, iOS, web, TV, unknown; EMAIL or SMS for those "
        "channels; MWEB; ALL for MoEngage's all-platforms aggregate."
    ),
    "locale": "'all' for the all-locales aggregate, else the locale.",
    "variation": "'all', a variation, campaign_control_group or global_control_group.",
    "attribution_type": "Conversion attribution of the request (CLICK_THROUGH...).",
    "metric_type": "TOTAL (occurrences) or UNIQUE (users).",
    "in_campaign_total": "The row is one of those that add up to the campaign's total.",
    "ctr": "MoEngage's ctr in percent (recomputed only when MoEngage sends none).",
    "campaign_name": "Campaign name (from moengage_campaigns).",
}


def _key_tests(layout: TableLayout) -> list[Any]:
    key = list(layout.primary_key)
    if len(key) == 1:
        return []
    parts = " || '|' || ".join(
        f'cast("{column}" as varchar)' if column == "date" else column for column in key
    )
    return [{"unique": {"column_name": f"({parts})"}}]


def _columns(names: list[str], key: tuple[str, ...]) -> list[dict[str, Any]]:
    columns = []
    for name in names:
        column: dict[str, Any] = {"name": name}
        if name in _COLUMNS:
            column["description"] = _COLUMNS[name]
        tests = ["not_null"] if name in key else []
        if key == (name,):
            tests.append("unique")
        if tests:
            column["data_tests"] = tests
        columns.append(column)
    return columns


def _view_columns() -> list[str]:
    head, tail = list(DAILY_KEY[:2]), list(DAILY_KEY[2:])
    return [*head, "campaign_name", "channel", "parent_id", *tail, *ADDITIVE_METRICS]


def sources_document() -> dict[str, Any]:
    """The ``sources.yml`` document as Python data."""
    tables = []
    for layout in (CAMPAIGNS_LAYOUT, STATS_LAYOUT, STATS_DAILY_LAYOUT):
        table: dict[str, Any] = {"name": layout.name, "description": _TABLES[layout.name]}
        tests = _key_tests(layout) if layout.primary_key else []
        if tests:
            table["data_tests"] = tests
        table["columns"] = _columns(list(layout.schema.names), layout.primary_key)
        tables.append(table)
    tables.append(
        {
            "name": SUMMABLE_VIEW,
            "description": (
                "A view of the daily facts whose counts can be SUMmed directly: each message "
                "once (aggregates, control groups and periodic runs whose parent has numbers "
                "are left out). Filter one attribution_type and metric_type."
            ),
            "columns": _columns(_view_columns(), ()),
        }
    )
    return {
        "version": 2,
        "sources": [
            {
                "name": SOURCE_NAME,
                "description": "Tables written by moengage-pipelines pulls.",
                "tables": tables,
            }
        ],
    }


def render_sources() -> str:
    """The ``sources.yml`` text (``docs/dbt/sources.yml`` holds exactly this)."""
    header = (
        "# The tables moengage-pipelines pulls, as a dbt source. Written by\n"
        "# `python -m moengage_pipelines.pull.dbt_sources`; do not edit by hand.\n"
    )
    return header + yaml.safe_dump(sources_document(), sort_keys=False, width=100)


if __name__ == "__main__":
    sys.stdout.write(render_sources())
