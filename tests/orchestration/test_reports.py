"""The pull assets run through Dagster against the emulator on a real socket."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import pytest

from dagster_project.defs.reports.assets import campaign_report_files, campaign_stats
from dagster_project.defs.reports.campaigns import campaigns
from dagster_project.defs.reports.checks import stats_daily_rows_unique
from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.pytest_plugin import client_for
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE, STATS_TABLE
from moengage_pipelines.warehouse import Warehouse
from tests.pull import activity
from tests.pull.activity import DAYS
from tests.pull.emulators import REPORT_NOW, clocked_server, define_report

RANGE_TAGS = {
    "dagster/asset_partition_range_start": DAYS[0].isoformat(),
    "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
}


@pytest.fixture
def resources(moengage_emulator_server, tmp_path):
    emulator = moengage_emulator_server.emulator.settings
    return {
        "moengage": MoEngageResource(
            workspace_id=emulator.workspace_id,
            data_api_key=emulator.data_api_key,
            campaign_api_key=emulator.campaign_api_key,
            base_url=moengage_emulator_server.url,
            rate_budget_store="memory",
        ),
        "warehouse": WarehouseResource(url=f"duckdb:///{tmp_path}/results.duckdb"),
    }


@pytest.fixture
def sent(moengage_emulator_server):
    customers = activity.users()
    events = activity.events(DAYS)
    with client_for(moengage_emulator_server) as client:
        activity.send(client, customers, events)
    return customers, events


def _checks(result) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def _daily_rows(resources) -> dict[tuple, dict]:
    with Warehouse.open(resources["warehouse"].url) as warehouse:
        rows = warehouse.query(
            f"SELECT * FROM {STATS_DAILY_TABLE} WHERE in_campaign_total"
        ).to_pylist()
    return {(r["date"], r["campaign_id"], r["platform"]): r for r in rows}


def _platform(campaign: dict, key: str) -> str:
    """The emulator's platform key as the daily table spells it (email/SMS: the channel)."""
    return {"android": "ANDROID", "ios": "iOS", "web": "web"}.get(key) or campaign["channel"]


def _counts(resources) -> tuple[int, int]:
    with Warehouse.open(resources["warehouse"].url) as warehouse:
        return warehouse.count(STATS_TABLE), warehouse.count(STATS_DAILY_TABLE)


def _assert_matches_emulator(resources, emulator_server, customers, events) -> None:
    daily = _daily_rows(resources)
    for campaign in emulator_server.emulator.inspect.campaigns():
        for platform in activity.stats_platforms(campaign):
            for day in DAYS:
                expected = activity.expected_counts(campaign, platform, day, events, customers)
                row = daily[(day, campaign["campaign_id"], _platform(campaign, platform))]
                assert (row["sent"], row["clicks"], row["conversions"]) == (
                    expected["sent"],
                    expected["clicks"],
                    expected["conversions"],
                ), (campaign["name"], platform, day)


def test_campaigns_then_a_backfill_then_an_idempotent_rerun(
    moengage_emulator_server, resources, sent
):
    customers, events = sent
    listed = dg.materialize([campaigns], resources=resources)
    assert listed.success and _checks(listed) == {"campaigns_found": True}
    [materialization] = listed.get_asset_materialization_events()
    assert materialization.materialization.metadata["dagster/row_count"].value == 25

    backfill = dg.materialize(
        [campaign_stats, stats_daily_rows_unique], resources=resources, tags=RANGE_TAGS
    )
    assert backfill.success
    partitions = sorted(
        e.materialization.partition for e in backfill.get_asset_materialization_events()
    )
    assert partitions == [day.isoformat() for day in DAYS]
    assert _checks(backfill) == {
        "stats_rows_written": True,
        "stats_answers_readable": True,
        "stats_daily_rows_unique": True,
    }
    metadata = backfill.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/table_name"].value == STATS_TABLE
    assert {column.name for column in metadata["dagster/column_schema"].value.columns} >= {
        "date",
        "campaign_id",
        "platform",
        "section",
        "metric",
        "value",
    }
    # Lookback of 3 before the first partition: 2 extra days re-pulled.
    assert len(metadata["days_pulled"].value) == len(DAYS) + 2
    expected_sent = sum(
        activity.expected_counts(c, p, day, events, customers)["sent"]
        for c in moengage_emulator_server.emulator.inspect.campaigns()
        if c["parent_id"] is None
        for p in activity.stats_platforms(c)
        for day in DAYS
    )
    assert metadata["sent"].value == expected_sent > 0
    chart = metadata["per_day"].value
    assert "| day | sent | delivered | clicks | conversions |" in chart
    assert f"{DAYS[0].isoformat()} |" in chart and "(re-pulled)" in chart
    _assert_matches_emulator(resources, moengage_emulator_server, customers, events)
    counts = _counts(resources)

    # Late events restate the last day; nightly runs re-pull one partition at a time.
    late = activity.events(DAYS[-1:], salt=1)
    with client_for(moengage_emulator_server) as client:
        activity.send(client, customers, late)
    for day in DAYS:
        rerun = dg.materialize(
            [campaign_stats, stats_daily_rows_unique],
            resources=resources,
            partition_key=day.isoformat(),
        )
        assert rerun.success and all(_checks(rerun).values())
    assert _counts(resources) == counts
    _assert_matches_emulator(resources, moengage_emulator_server, customers, [*events, *late])


def test_stats_not_enabled_fails_the_step_with_the_reason(moengage_emulator_server, resources):
    emulator = moengage_emulator_server.emulator.settings
    # The data key on the stats endpoint: a valid key without access, answered 403.
    denied = MoEngageResource(
        workspace_id=emulator.workspace_id,
        data_api_key=emulator.data_api_key,
        campaign_api_key=emulator.data_api_key,
        base_url=moengage_emulator_server.url,
        rate_budget_store="memory",
    )
    result = dg.materialize(
        [campaign_stats],
        resources={**resources, "moengage": denied},
        partition_key=DAYS[0].isoformat(),
        run_config={
            "ops": {"moengage_reports__campaign_stats": {"config": {"campaigns": "active"}}}
        },
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "403" in failure.step_failure_data.user_failure_data.description


def test_report_asset_without_a_configured_report_fails_its_check_not_the_run(
    resources, monkeypatch
):
    monkeypatch.delenv("MOENGAGE_REPORT_NAMES", raising=False)
    result = dg.materialize(
        [campaign_report_files], resources=resources, partition_key=DAYS[1].isoformat()
    )
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "report_file_present" and not evaluation.passed
    assert "no report configured" in evaluation.description


@pytest.fixture
def report_server():
    with clocked_server(FakeClock(REPORT_NOW)) as server:
        yield server


def test_report_files_load_and_a_missing_file_fails_only_the_check(report_server, tmp_path):
    emulator = report_server.emulator.settings
    report_resources = {
        "moengage": MoEngageResource(
            workspace_id=emulator.workspace_id,
            data_api_key=emulator.data_api_key,
            campaign_api_key=emulator.campaign_api_key,
            base_url=report_server.url,
            rate_budget_store="memory",
        ),
        "warehouse": WarehouseResource(url=f"duckdb:///{tmp_path}/reports.duckdb"),
    }
    with client_for(report_server) as client:
        activity.send(client, activity.users(), activity.events(DAYS))
    define_report(
        report_server, name="Daily Campaign Report", generated_on="2025-03-01", schedule="daily"
    )
    config = {
        "ops": {
            "moengage_reports__campaign_report_files": {
                "config": {"report_names": ["Daily Campaign Report"]}
            }
        }
    }
    loaded = dg.materialize(
        [campaign_report_files],
        resources=report_resources,
        partition_key=DAYS[1].isoformat(),
        run_config=config,
    )
    assert loaded.success
    [evaluation] = loaded.get_asset_check_evaluations()
    assert evaluation.passed
    metadata = loaded.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["dagster/table_name"].value == "moengage_report_daily_campaign_report"
    # Partition D loads the file generated the day after it.
    generated = (DAYS[1] + timedelta(days=1)).strftime("%Y%m%d")
    assert metadata["files"].value == {f"Daily_Campaign_Report_{generated}.zip": "ok"}
    rows = metadata["dagster/row_count"].value
    assert rows == metadata["rows_loaded"].value > 0
    assert "all_platform_sent" in {c.name for c in metadata["dagster/column_schema"].value.columns}

    # A partition whose file MoEngage no longer keeps: the run succeeds, the check fails.
    expired = dg.materialize(
        [campaign_report_files],
        resources=report_resources,
        partition_key="2025-02-20",
        run_config=config,
    )
    assert expired.success
    [evaluation] = expired.get_asset_check_evaluations()
    assert not evaluation.passed
    assert evaluation.metadata["expired"].value == ["Daily_Campaign_Report_20250221.zip"]
    assert "expired" in evaluation.description
    with Warehouse.open(report_resources["warehouse"].url) as warehouse:
        assert warehouse.count("moengage_report_daily_campaign_report") == rows


def test_pull_assets_share_the_daily_partitions_pool_and_lineage(monkeypatch):
    from dagster_project.defs.resources import resources as bound_resources
    from dagster_project.partitions import DAILY

    for name in ("MOENGAGE_WORKSPACE_ID", "MOENGAGE_CAMPAIGN_API_KEY", "MOENGAGE_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)  # definitions load without secrets
    defs = dg.Definitions.merge(
        bound_resources(),
        dg.Definitions(
            assets=[campaigns, campaign_stats, campaign_report_files],
            asset_checks=[stats_daily_rows_unique],
        ),
    )
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    for key in ("moengage_reports/campaign_stats", "moengage_reports/campaign_report_files"):
        node = graph.get(dg.AssetKey.from_user_string(key))
        assert node.partitions_def == DAILY
        _assert_nightly_freshness(node.freshness_policy)
        assert {k.to_user_string() for k in node.parent_keys} == {
            "moengage/users",
            "moengage/events",
            "moengage/campaigns",
        }
    for asset in (campaigns, campaign_stats, campaign_report_files):
        assert asset.op.pool == "moengage_reports_api"
    campaign_list = graph.get(dg.AssetKey.from_user_string("moengage/campaigns"))
    assert campaign_list.partitions_def is None and "moengage" in campaign_list.kinds
    _assert_nightly_freshness(campaign_list.freshness_policy)


def _assert_nightly_freshness(policy) -> None:
    """The documented policy (operations.md): warn after 26 hours, fail after 36."""
    assert policy is not None
    assert policy.warn_window.to_timedelta() == timedelta(hours=26)
    assert policy.fail_window.to_timedelta() == timedelta(hours=36)


def test_the_code_location_materializes_the_campaigns_in_the_nightly_job(monkeypatch):
    from dagster_project.definitions import defs as load_defs

    for name in ("MOENGAGE_WORKSPACE_ID", "MOENGAGE_CAMPAIGN_API_KEY", "MOENGAGE_WAREHOUSE_URL"):
        monkeypatch.delenv(name, raising=False)
    loaded = load_defs()
    node = loaded.resolve_asset_graph().get(dg.AssetKey.from_user_string("moengage/campaigns"))
    assert node.is_materializable and node.group_name == "moengage"
    job = loaded.resolve_job_def("nightly_moengage_sync")
    selected = {key.to_user_string() for key in job.asset_layer.selected_asset_keys}
    assert {"moengage/campaigns", "moengage_reports/campaign_stats"} <= selected
