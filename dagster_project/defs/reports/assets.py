"""Campaign stats and campaign report files pulled back from MoEngage into the warehouse.

Both assets are daily-partitioned with the shared ``DAILY`` and sit in the
``moengage_reports_api`` pool, so stats and report calls from every run share one slot
budget. They write through ``Warehouse`` (DuckDB or Postgres) and report with
``MaterializeResult``; the work itself is in ``moengage_pipelines.pull``.
"""

import os
from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
from pydantic import Field

from dagster_project.defs.reports.checks import (
    CAMPAIGNS_KEY,
    REPORT_FILES_KEY,
    REPORT_PRESENT_CHECK,
    STATS_KEY,
    STATS_ROWS_CHECK,
    STATS_SHAPES_CHECK,
)
from dagster_project.defs.reports.metadata import day_chart_markdown, table_schema
from dagster_project.partitions import DAILY
from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.pull.errors import PullError, StatsDayError
from moengage_pipelines.pull.report_files.load import ReportPullReport, pull_report
from moengage_pipelines.pull.stats.load import CHART_METRICS, pull_stats
from moengage_pipelines.pull.stats.model import SUMMABLE_VIEW
from moengage_pipelines.pull.stats.request import StatsOptions
from moengage_pipelines.pull.stats.selection import stats_days
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE, STATS_SCHEMA, STATS_TABLE
from moengage_pipelines.warehouse import Warehouse

POOL = "moengage_reports_api"
REPORT_NAMES_VARIABLE = "MOENGAGE_REPORT_NAMES"
UPSTREAM_PUSHES = [dg.AssetKey(["moengage", "users"]), dg.AssetKey(["moengage", "events"])]

# The nightly job runs at 02:00 UTC; a day late is a warning, more is a failure.
_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=36), warn_window=timedelta(hours=26)
)


class CampaignStatsConfig(dg.Config):
    """Run configuration of ``moengage_reports/campaign_stats``."""

    lookback_days: int = Field(
        default=3,
        ge=1,
        description=(
            "Days re-pulled ending at the partition: conversions are attributed after the send, "
            "so the last days' numbers restate. Each day's rows are replaced, never added to."
        ),
    )
    attribution_types: list[str] = Field(
        default=["CLICK_THROUGH"],
        description=(
            "Any of VIEW_THROUGH, CLICK_THROUGH, IN_SESSION, TOTAL_CONVERSIONS, CLICK_CONVERSIONS."
        ),
    )
    metric_types: list[str] = Field(default=["TOTAL"], description="TOTAL and/or UNIQUE.")
    campaigns: str = Field(
        default="pulled",
        description=(
            "'pulled': every campaign of moengage_campaigns created by the day (10 per "
            "request); 'active': let MoEngage list the campaigns active that day."
        ),
    )
    campaign_ids: list[str] = Field(
        default_factory=list, description="Pull only these campaigns (overrides 'campaigns')."
    )


def _partition_days(context: dg.AssetExecutionContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.partition_keys]


@dg.asset(
    key=STATS_KEY,
    group_name="moengage_reports",
    description=(
        "Campaign stats per day, campaign, platform, locale and variation: tidy rows in "
        f"`{STATS_TABLE}`, one wide row per (campaign, platform, locale, variation) in "
        f"`{STATS_DAILY_TABLE}` (primary key), and the view `{SUMMABLE_VIEW}` to SUM. "
        "Each run re-pulls the lookback days, replacing their rows."
    ),
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.multi_run(7),
    deps=[*UPSTREAM_PUSHES, CAMPAIGNS_KEY],
    kinds={"moengage", "table"},
    pool=POOL,
    freshness_policy=_FRESHNESS,
    metadata={
        "dagster/table_name": STATS_TABLE,
        "dagster/column_schema": table_schema(STATS_SCHEMA),
    },
    check_specs=[
        dg.AssetCheckSpec(
            STATS_ROWS_CHECK,
            asset=STATS_KEY,
            description="The partition's days got stats rows when campaigns were asked for.",
        ),
        dg.AssetCheckSpec(
            STATS_SHAPES_CHECK,
            asset=STATS_KEY,
            description="Every part of MoEngage's answers was read as documented.",
        ),
    ],
)
def campaign_stats(
    context: dg.AssetExecutionContext,
    config: CampaignStatsConfig,
    moengage: MoEngageResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull the partition's days (and the lookback before them) of campaign stats."""
    partition_days = _partition_days(context)
    days = stats_days(partition_days[-1], config.lookback_days, start=partition_days[0])
    try:
        options = StatsOptions(
            attribution_types=tuple(config.attribution_types),
            metric_types=tuple(config.metric_types),
        )
    except ValueError as exc:
        raise dg.Failure(description=f"invalid run config: {exc}", allow_retries=False) from exc
    selection = config.campaign_ids or config.campaigns
    with moengage.get_client() as client, Warehouse.open(warehouse.output_url()) as results:
        try:
            report = pull_stats(client, results, days, campaigns=selection, options=options)
        except StatsDayError as exc:
            # 403 (stats not enabled), a refused request, an unreadable answer: retrying the
            # step gives the same answer. A server error or a lost connection may pass, so
            # the run's retry policy applies. The message names the committed days.
            raise dg.Failure(description=str(exc), allow_retries=exc.retryable) from exc
        except (PullError, ValueError) as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        table_rows = results.count(STATS_TABLE)
        daily_table_rows = results.count(STATS_DAILY_TABLE)
    for message in [*report.notes, *map(str, report.issues)]:
        context.log.warning(f"campaign stats: {message}")
    mine = [day for day in report.days if day.day in set(partition_days)]
    partition_totals = {
        metric: sum(day.totals.get(metric, 0.0) for day in mine) for metric in CHART_METRICS
    }
    metadata = {
        "dagster/row_count": table_rows,
        "dagster/partition_row_count": sum(day.rows for day in mine),
        "dagster/table_name": STATS_TABLE,
        "dagster/column_schema": table_schema(STATS_SCHEMA),
        "daily_table": STATS_DAILY_TABLE,
        "daily_table_rows": daily_table_rows,
        "days_pulled": [day.day.isoformat() for day in report.days],
        "requests": report.requests,
        "campaigns": max((day.campaigns for day in mine), default=0),
        "attribution_type": report.attribution_type,
        "metric_type": report.metric_type,
        "shape_issues": len(report.issues),
        "notes": report.notes[:10],
        # Plain numbers: the UI plots them per partition on the asset's Plots tab.
        **{metric: float(value) for metric, value in partition_totals.items()},
        "per_day": dg.MetadataValue.md(
            day_chart_markdown(
                report.days,
                [day.isoformat() for day in partition_days],
                f"{report.attribution_type} / {report.metric_type}, all campaigns and platforms",
            )
        ),
    }
    yield dg.MaterializeResult(asset_key=STATS_KEY, metadata=metadata)
    asked = [day.campaigns_asked for day in mine]
    expected_rows = any(count is None or count > 0 for count in asked)
    yield dg.AssetCheckResult(
        check_name=STATS_ROWS_CHECK,
        asset_key=STATS_KEY,
        passed=bool(metadata["dagster/partition_row_count"]) or not expected_rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rows": metadata["dagster/partition_row_count"],
            "campaigns_asked": [("active" if n is None else n) for n in asked],
        },
    )
    yield dg.AssetCheckResult(
        check_name=STATS_SHAPES_CHECK,
        asset_key=STATS_KEY,
        passed=not report.issues,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "issues": len(report.issues),
            "examples": [str(issue) for issue in report.issues[:10]],
        },
    )


class ReportFilesConfig(dg.Config):
    """Run configuration of ``moengage_reports/campaign_report_files``."""

    report_names: list[str] = Field(
        default_factory=list,
        description=(
            "Report names as configured in the dashboard ('Send report to: REST API'). Empty: "
            f"read the comma-separated {REPORT_NAMES_VARIABLE} variable at run time."
        ),
    )
    generation_offset_days: int = Field(
        default=1,
        ge=0,
        description=(
            "Partition D loads the file generated on D + offset (a daily report generated "
            "after midnight covers the day before)."
        ),
    )


def _report_names(config: ReportFilesConfig) -> list[str]:
    names = config.report_names or os.environ.get(REPORT_NAMES_VARIABLE, "").split(",")
    return [name.strip() for name in names if name.strip()]


@dg.asset(
    key=REPORT_FILES_KEY,
    group_name="moengage_reports",
    description=(
        "Campaign report files built in the dashboard, downloaded by name and generation date, "
        "unzipped and loaded into `moengage_report_<name>` (every CSV column kept)."
    ),
    partitions_def=DAILY,
    backfill_policy=dg.BackfillPolicy.multi_run(7),
    deps=[*UPSTREAM_PUSHES, CAMPAIGNS_KEY],
    kinds={"moengage", "table"},
    pool=POOL,
    freshness_policy=_FRESHNESS,
    check_specs=[
        dg.AssetCheckSpec(
            REPORT_PRESENT_CHECK,
            asset=REPORT_FILES_KEY,
            description="Every configured report file was there to download (not missing or "
            "expired: MoEngage keeps files 7 days).",
        )
    ],
)
def campaign_report_files(
    context: dg.AssetExecutionContext,
    config: ReportFilesConfig,
    moengage: MoEngageResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Download and load each configured report's file for the partition's days."""
    names = _report_names(config)
    outcomes: list[ReportPullReport] = []
    if names:
        with moengage.get_client() as client, Warehouse.open(warehouse.output_url()) as results:
            for day in _partition_days(context):
                generated_on = day + timedelta(days=config.generation_offset_days)
                for name in names:
                    outcome = pull_report(client, results, name, generated_on)
                    if outcome.present:
                        context.log.info(f"{outcome.filename}: {outcome.rows} rows")
                    else:
                        context.log.warning(outcome.message)
                    outcomes.append(outcome)
            table_rows = {o.table: results.count(o.table) for o in outcomes if o.present}
    else:
        table_rows = {}
    tables = sorted({outcome.table for outcome in outcomes})
    metadata: dict[str, object] = {
        "reports": names,
        "files": {outcome.filename: outcome.status for outcome in outcomes},
        "rows_loaded": sum(outcome.rows for outcome in outcomes),
        "tables": tables,
        "dagster/row_count": sum(table_rows.values()),
        "dagster/partition_row_count": sum(outcome.rows for outcome in outcomes),
    }
    if len(tables) == 1:
        metadata["dagster/table_name"] = tables[0]
        loaded = [outcome for outcome in outcomes if outcome.present]
        if loaded:
            metadata["columns"] = loaded[-1].columns
            if loaded[-1].schema is not None:
                metadata["dagster/column_schema"] = table_schema(loaded[-1].schema)
    yield dg.MaterializeResult(asset_key=REPORT_FILES_KEY, metadata=metadata)
    missing = [outcome for outcome in outcomes if not outcome.present]
    problem = (
        f"no report configured: set run config report_names or {REPORT_NAMES_VARIABLE}"
        if not names
        else "; ".join(outcome.message for outcome in missing[:5])
    )
    yield dg.AssetCheckResult(
        check_name=REPORT_PRESENT_CHECK,
        asset_key=REPORT_FILES_KEY,
        passed=bool(names) and not missing,
        # Unconfigured is a nudge, not an outage; a configured file that is missing is an error.
        severity=dg.AssetCheckSeverity.ERROR if names else dg.AssetCheckSeverity.WARN,
        description=problem or None,
        metadata={
            "missing": [o.filename for o in missing if o.status == "missing"],
            "expired": [o.filename for o in missing if o.status == "expired"],
            "problem": problem,
        },
    )
