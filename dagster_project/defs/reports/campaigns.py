"""The MoEngage-side campaigns, pulled into ``moengage_campaigns``.

Campaigns are created in MoEngage, not by this project, but the stats pull needs their ids
and people need their names, so the campaign list is a materialized asset: every run pages
through ``campaigns/search`` (all channels, children and archived included) and replaces the
table.

It lives beside the report assets because ``defs/moengage`` is a component folder (its
``defs.yaml``), whose Python files the definitions loader does not pick up.
"""

from collections.abc import Iterator
from datetime import timedelta

import dagster as dg

from dagster_project.defs.reports.checks import CAMPAIGNS_FOUND_CHECK, CAMPAIGNS_KEY
from dagster_project.defs.reports.metadata import table_schema
from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.pull.campaigns.fetch import CampaignsOptions
from moengage_pipelines.pull.campaigns.load import pull_campaigns
from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_SCHEMA, CAMPAIGNS_TABLE
from moengage_pipelines.pull.errors import PullError
from moengage_pipelines.warehouse import Warehouse


@dg.asset(
    key=CAMPAIGNS_KEY,
    group_name="moengage",
    description=(
        f"Every Push, Email and SMS campaign (children and archived included) in "
        f"`{CAMPAIGNS_TABLE}`: ids, names, channel, delivery type, status, times, tags, "
        "platforms, and the raw item as JSON."
    ),
    kinds={"moengage", "table"},
    pool="moengage_reports_api",
    freshness_policy=dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=36), warn_window=timedelta(hours=26)
    ),
    metadata={
        "dagster/table_name": CAMPAIGNS_TABLE,
        "dagster/column_schema": table_schema(CAMPAIGNS_SCHEMA),
    },
    check_specs=[
        dg.AssetCheckSpec(
            CAMPAIGNS_FOUND_CHECK,
            asset=CAMPAIGNS_KEY,
            description="The search returned campaigns, each readable, and paged to its end.",
        )
    ],
)
def campaigns(
    context: dg.AssetExecutionContext,
    moengage: MoEngageResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Pull every campaign."""
    with moengage.get_client() as client, Warehouse.open(warehouse.output_url()) as results:
        try:
            report = pull_campaigns(client, results, CampaignsOptions())
        except PullError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        rows = results.count(CAMPAIGNS_TABLE)
    for issue in report.issues:
        context.log.warning(f"campaigns: {issue}")
    yield dg.MaterializeResult(
        asset_key=CAMPAIGNS_KEY,
        metadata={
            "dagster/row_count": rows,
            "dagster/table_name": CAMPAIGNS_TABLE,
            "dagster/column_schema": table_schema(CAMPAIGNS_SCHEMA),
            "pages": report.pages,
            "stop_reason": report.stop_reason,
            "by_channel": report.by_channel,
            "issues": len(report.issues),
        },
    )
    yield dg.AssetCheckResult(
        check_name=CAMPAIGNS_FOUND_CHECK,
        asset_key=CAMPAIGNS_KEY,
        passed=report.campaigns > 0 and report.stop_reason == "short_page" and not report.issues,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "campaigns": report.campaigns,
            "stop_reason": report.stop_reason,
            "issue_examples": [str(issue) for issue in report.issues[:10]],
        },
    )
