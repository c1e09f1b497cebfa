"""The blocking column check stops a push whose source lost a column the mapping reads.

The schedule launches this job for a partition; here the job runs in process the same way.
The check belongs to the push asset, so any launch that selects the push runs it
(test_launch_paths launches the way the UI does).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import pytest

from dagster_project.definitions import defs as load_defs
from sample_data.generate import DEMO_DAY


def test_renamed_source_column_blocks_the_push_before_anything_is_sent(deployment) -> None:
    with duckdb.connect(str(deployment.warehouse)) as connection:
        connection.execute("ALTER TABLE events RENAME COLUMN platform TO device_platform")

    definitions = load_defs()
    schedule = definitions.resolve_schedule_def("nightly_moengage_sync_schedule")
    tick = dt.datetime.combine(DEMO_DAY + dt.timedelta(days=1), dt.time(2), tzinfo=dt.UTC)
    with dg.instance_for_test() as instance:
        # The run the schedule's tick asks for, executed as the daemon would launch it.
        [request] = schedule.evaluate_tick(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        ).run_requests
        assert request.partition_key == DEMO_DAY.isoformat()
        result = definitions.resolve_job_def(schedule.job_name).execute_in_process(
            partition_key=request.partition_key, tags=request.tags, instance=instance,
            raise_on_error=False,
        )
    evaluations = {
        evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()
    }
    failed = evaluations["has_columns_for_moengage__events"]
    assert not failed.passed
    assert failed.metadata["missing_columns"].value == ["platform"]
    assert evaluations["has_columns_for_moengage__users"].passed

    materialized = {
        event.asset_key.to_user_string() for event in result.get_asset_materialization_events()
    }
    assert "moengage/events" not in materialized
    assert "moengage/users" in materialized
    assert deployment.emulator.inspect.events() == []
    [failure] = [
        event for event in result.get_step_failure_events()
        if event.step_key == "push_moengage__events"
    ]
    description = failure.step_failure_data.user_failure_data.description
    assert "missing columns: platform" in description and "Not retried" in description


def test_the_column_check_cannot_be_left_out_of_a_push() -> None:
    # The push and its checks are one step: a selection without the check is refused, so no
    # launch (nor an operator unticking checks in the UI) can push without it.
    events = dg.AssetKey(["moengage", "events"])
    definitions = dg.Definitions.merge(
        load_defs(),
        dg.Definitions(jobs=[dg.define_asset_job(
            "events_without_checks", selection=dg.AssetSelection.assets(events).without_checks()
        )]),
    )
    with pytest.raises(dg.DagsterInvalidDefinitionError, match="events_without_checks") as error:
        definitions.resolve_job_def("events_without_checks")
    assert "has_columns_for_moengage__events" in str(error.value.__cause__)
