"""The campaign catalogue pull: campaign search → ``moengage_campaigns``.

An unfiltered pull (every channel, no extra filter) replaces the table; a filtered one replaces
only the campaigns it found and keeps the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from moengage_pipelines.pull.campaigns import (
    CatalogueOptions,
    SearchClient,
    campaign_record,
    fetch_campaigns,
)
from moengage_pipelines.pull.normalization import ShapeIssue, issue_examples
from moengage_pipelines.pull.tables import CAMPAIGNS_SCHEMA, CAMPAIGNS_TABLE, to_arrow
from moengage_pipelines.warehouse import Warehouse

__all__ = ["CatalogueReport", "pull_catalogue"]

logger = logging.getLogger(__name__)


@dataclass
class CatalogueReport:
    """What a catalogue pull did.

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


def pull_catalogue(
    client: SearchClient,
    warehouse: Warehouse,
    options: CatalogueOptions | None = None,
    *,
    now: datetime | None = None,
) -> CatalogueReport:
    """Pull the campaign catalogue into ``moengage_campaigns``.

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
    options = options or CatalogueOptions()
    pulled_at = now or datetime.now(UTC)
    pull = fetch_campaigns(client, options)
    report = CatalogueReport(pages=pull.pages, stop_reason=pull.stop_reason, issues=pull.issues)
    rows = []
    for item in pull.campaigns:
        row, issues = campaign_record(item, pulled_at)
        rows.append(row)
        report.issues.extend(issues)
        channel = row["channel"] or "UNKNOWN"
        report.by_channel[channel] = report.by_channel.get(channel, 0) + 1
    table = to_arrow(rows, CAMPAIGNS_SCHEMA)
    filtered = bool(options.extra_filters) or set(options.channels) != {"PUSH", "EMAIL", "SMS"}
    if filtered and warehouse.table_exists(CAMPAIGNS_TABLE):
        table = _merge_catalogue(warehouse, table)
        report.merged = True
    warehouse.replace_rows(CAMPAIGNS_TABLE, table)
    report.campaigns = len(rows)
    for issue in report.issues:
        logger.warning("campaign catalogue: %s", issue)
    return report


def _merge_catalogue(warehouse: Warehouse, fresh: pa.Table) -> pa.Table:
    existing = warehouse.query(f"SELECT * FROM {warehouse.table_name(CAMPAIGNS_TABLE).sql}")
    pulled = set(fresh.column("campaign_id").to_pylist())
    kept = [row for row in existing.to_pylist() if row.get("campaign_id") not in pulled]
    return pa.concat_tables([to_arrow(kept, CAMPAIGNS_SCHEMA), fresh])
