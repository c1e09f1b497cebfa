"""A blocking source check stops a push whose source lost a column the mapping reads."""

from __future__ import annotations

import dagster as dg
import duckdb

from dagster_project.definitions import defs as load_defs
from sample_data.generate import DEMO_DAY


def test_renamed_source_column_blocks_the_push_before_anything_is_sent(deployment) -> None:
    with duckdb.connect(str(deployment.warehouse)) as connection:
        connection.execute("ALTER TABLE events RENAME COLUMN platform TO device_platform")

    job = load_defs().resolve_job_def("nightly_moengage_sync")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            partition_key=DEMO_DAY.isoformat(), instance=instance, raise_on_error=False
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
