"""Load the campaigns: search → rows → ``moengage_campaigns``.

An unfiltered pull (every channel, no extra filter) replaces the table; a filtered one replaces
only the campaigns it found and keeps the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from moengage_pipelines.pull.campaigns.fetch import CampaignsOptions, SearchClient, fetch_campaigns
from moengage_pipelines.pull.campaigns.normalize import campaign_record
from moengage_pipelines.pull.campaigns.table import (
    CAMPAIGNS_LAYOUT,
    CAMPAIGNS_SCHEMA,
    CAMPAIGNS_TABLE,
)
from moengage_pipelines.pull.issues import ShapeIssue, issue_examples
from moengage_pipelines.warehouse import Warehouse, ensure_layout

__all__ = ["CampaignsReport", "pull_campaigns"]

logger = logging.getLogger(__name__)


@dataclass
class CampaignsReport:
    """What a campaigns pull did.

    Attributes:
        campaigns: Campaigns written (children included).
        pages: Search pages requested.
        stop_reason: Why paging stopped (``short_page`` is the normal end).
        issues: Items skipped, unreadable timestamps, distrusted pages.
        by_channel: Campaigns per channel.
        merged: True when a filtered pull kept the table's other campaigns.
    """

    campaigns: int = 0
    pages: int = 0
    stop_reason: str = ""
    issues: list[ShapeIssue] = field(default_factory=list)
    by_channel: dict[str, int] = field(default_factory=dict)
    merged: bool = False

    def to_metadata(self) -> dict[str, Any]:
        """Plain values for run metadata or a CLI summary."""
        return {
            "table": CAMPAIGNS_TABLE,
            "campaigns": self.campaigns,
            "pages": self.pages,
            "stop_reason": self.stop_reason,
            "issues": len(self.issues),
            "issue_examples": issue_examples(self.issues),
            **{f"channel_{name.lower()}": count for name, count in self.by_channel.items()},
        }


def pull_campaigns(
    client: SearchClient,
    warehouse: Warehouse,
    options: CampaignsOptions | None = None,
    *,
    now: datetime | None = None,
) -> CampaignsReport:
    """Pull every campaign into ``moengage_campaigns``.

    An unfiltered pull (every channel, no extra filter) replaces the table; a filtered one
    replaces only the campaigns it found and keeps the others.

    Args:
        client: A ``MoEngageClient``.
        warehouse: Where ``moengage_campaigns`` lives.
        options: Channels, children, archived, page size, extra filters.
        now: ``pulled_at`` (default: now, UTC).

    Returns:
        What was written and how the paging went.
    """
    options = options or CampaignsOptions()
    pulled_at = now or datetime.now(UTC)
    fetched = fetch_campaigns(client, options)
    report = CampaignsReport(
        pages=fetched.pages, stop_reason=fetched.stop_reason, issues=fetched.issues
    )
    rows = []
    for item in fetched.campaigns:
        row, issues = campaign_record(item, pulled_at)
        rows.append(row)
        report.issues.extend(issues)
        channel = row["channel"] or "UNKNOWN"
        report.by_channel[channel] = report.by_channel.get(channel, 0) + 1
    ensure_layout(warehouse, CAMPAIGNS_LAYOUT)
    written = rows
    if options.filtered:
        written = _kept_campaigns(warehouse, rows) + rows
        report.merged = True
    table = pa.Table.from_pylist(_with_family(written), schema=CAMPAIGNS_SCHEMA)
    warehouse.replace_rows(CAMPAIGNS_TABLE, table)
    report.campaigns = len(rows)
    for issue in report.issues:
        logger.warning("campaigns: %s", issue)
    return report


def _kept_campaigns(warehouse: Warehouse, fresh: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's campaigns that a filtered search did not return."""
    existing = warehouse.query(f"SELECT * FROM {warehouse.table_name(CAMPAIGNS_TABLE).sql}")
    pulled = {row["campaign_id"] for row in fresh}
    return [row for row in existing.to_pylist() if row.get("campaign_id") not in pulled]


def _with_family(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set ``is_child`` (has a parent) and ``is_parent`` (named as a parent by another row)."""
    parents = {row["parent_id"] for row in rows if row.get("parent_id")}
    return [
        {
            **row,
            "is_child": row.get("parent_id") is not None,
            "is_parent": row["campaign_id"] in parents,
        }
        for row in rows
    ]
