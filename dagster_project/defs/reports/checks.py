"""Checks on the pulled tables.

Checks whose result is known inside the pull (rows written, readable answers, report file
present) are declared here by name and reported by the assets themselves; the check below
reads the warehouse afterwards.
"""

from __future__ import annotations

import dagster as dg

from dagster_project.resources import WarehouseResource
from moengage_pipelines.pull.stats.daily import DAILY_KEY
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE, STATS_TABLE
from moengage_pipelines.warehouse import Warehouse, quote_identifier

STATS_KEY = dg.AssetKey(["moengage_reports", "campaign_stats"])
REPORT_FILES_KEY = dg.AssetKey(["moengage_reports", "campaign_report_files"])
CAMPAIGNS_KEY = dg.AssetKey(["moengage", "campaigns"])

STATS_ROWS_CHECK = "stats_rows_written"
STATS_SHAPES_CHECK = "stats_answers_readable"
REPORT_PRESENT_CHECK = "report_file_present"
CAMPAIGNS_FOUND_CHECK = "campaigns_found"

_DAILY_KEY = DAILY_KEY


@dg.asset_check(
    asset=STATS_KEY,
    name="stats_daily_rows_unique",
    description=(
        "Each (date, campaign, platform, locale, variation, attribution, metric type) "
        "appears once in "
        f"{STATS_DAILY_TABLE}: re-pulled days replaced their rows instead of adding to them."
    ),
)
def stats_daily_rows_unique(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    """Fail when a re-pulled day left duplicate rows behind."""
    with Warehouse.open(warehouse.output_url()) as results:
        if not results.table_exists(STATS_DAILY_TABLE):
            return dg.AssetCheckResult(
                passed=True, metadata={"note": f"{STATS_DAILY_TABLE} does not exist yet"}
            )
        table = results.table_name(STATS_DAILY_TABLE).sql
        # A table of an earlier layout (before its next pull rebuilds it) lacks some columns.
        present = results.columns(STATS_DAILY_TABLE)
        key = ", ".join(quote_identifier(column) for column in _DAILY_KEY if column in present)
        duplicates = results.query(
            f"SELECT {key}, count(*) AS copies FROM {table} GROUP BY {key} "
            "HAVING count(*) > 1 ORDER BY copies DESC LIMIT 5"
        ).to_pylist()
        total = results.count(STATS_DAILY_TABLE)
        tidy = results.count(STATS_TABLE)
    return dg.AssetCheckResult(
        passed=not duplicates,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "daily_rows": total,
            "tidy_rows": tidy,
            "duplicate_examples": [{k: str(v) for k, v in row.items()} for row in duplicates],
        },
    )
