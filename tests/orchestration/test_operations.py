"""Operations settings of the code location: freshness, automation, schedule and sensor defaults."""

import datetime as dt

import dagster as dg
import pytest

from dagster_project.definitions import defs as load_defs
from dagster_project.defs.schedules import SCHEDULE_STATUS_VARIABLE, default_schedule_status
from dagster_project.policies import PUSH_FRESHNESS, REPORTS_AUTOMATION

PUSHES = ("moengage/users", "moengage/events", "moengage/catalog_items")
REPORTS = ("moengage_reports/campaign_stats", "moengage_reports/campaign_report_files")


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    loaded = load_defs()
    dg.Definitions.validate_loadable(loaded)
    return loaded


def _node(definitions: dg.Definitions, key: str):
    return definitions.resolve_asset_graph().get(dg.AssetKey.from_user_string(key))


def test_every_push_asset_has_the_freshness_policy(definitions) -> None:
    for key in PUSHES:
        assert _node(definitions, key).freshness_policy == PUSH_FRESHNESS, key
    # Assets with a policy of their own keep it; source tables get none.
    assert _node(definitions, "moengage_reports/campaign_stats").freshness_policy is not None
    assert _node(definitions, "warehouse/events").freshness_policy is None


def test_reports_carry_the_example_automation_condition(definitions) -> None:
    for key in REPORTS:
        assert _node(definitions, key).automation_condition == REPORTS_AUTOMATION, key
    for key in PUSHES:
        assert _node(definitions, key).automation_condition is None, key
    sensor = definitions.resolve_sensor_def("moengage_reports_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_the_condition_requests_the_latest_report_partition_after_six(definitions) -> None:
    reports = dg.AssetSelection.assets(*(dg.AssetKey.from_user_string(k) for k in REPORTS))
    now = dt.datetime.now(dt.UTC)
    # The latest 06:00 UTC tick before now, and the partition automation considers: yesterday.
    tick = now.replace(hour=6, minute=0, second=0, microsecond=0)
    if tick > now:
        tick -= dt.timedelta(days=1)
    latest = (now.date() - dt.timedelta(days=1)).isoformat()
    with dg.instance_for_test() as instance:
        before = dg.evaluate_automation_conditions(
            defs=definitions,
            instance=instance,
            asset_selection=reports,
            evaluation_time=tick - dt.timedelta(minutes=1),
        )
        assert before.total_requested == 0
        # The night's pushes and the campaign list are materialized after the tick.
        for key, partition in (
            ("moengage/users", latest),
            ("moengage/events", latest),
            ("moengage/campaigns", None),
        ):
            instance.report_runless_asset_event(
                dg.AssetMaterialization(dg.AssetKey.from_user_string(key), partition=partition)
            )
        after = dg.evaluate_automation_conditions(
            defs=definitions,
            instance=instance,
            asset_selection=reports,
            evaluation_time=now + dt.timedelta(minutes=1),
            cursor=before.cursor,
        )
    assert after.total_requested == len(REPORTS)
    requested = {
        key: after.get_requested_partitions(dg.AssetKey.from_user_string(key)) for key in REPORTS
    }
    assert requested == {key: {latest} for key in REPORTS}


def test_failure_sensor_runs_and_schedule_is_stopped_by_default(definitions, monkeypatch) -> None:
    sensor = definitions.resolve_sensor_def("moengage_run_failure_alert")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    schedule = definitions.resolve_schedule_def("nightly_moengage_sync_schedule")
    monkeypatch.delenv(SCHEDULE_STATUS_VARIABLE, raising=False)
    assert schedule.default_status == default_schedule_status() == dg.DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("running", dg.DefaultScheduleStatus.RUNNING),
        (" Stopped ", dg.DefaultScheduleStatus.STOPPED),
    ],
)
def test_schedule_default_follows_the_variable(monkeypatch, value, status) -> None:
    monkeypatch.setenv(SCHEDULE_STATUS_VARIABLE, value)
    assert default_schedule_status() == status


def test_a_misspelt_schedule_setting_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv(SCHEDULE_STATUS_VARIABLE, "on")
    with pytest.raises(
        ValueError, match="MOENGAGE_NIGHTLY_SCHEDULE must be 'running' or 'stopped'"
    ):
        default_schedule_status()
