"""Dagster shows the diff plan before a push and the sync history after it."""

from __future__ import annotations

import dagster as dg
import duckdb

from dagster_project.definitions import defs as load_defs
from sample_data.generate import DEMO_DAY as DAY
from tests.orchestration.test_resume import PUSH_KEYS, _push_metadata

USERS = dg.AssetKey(["moengage", "users"])


def _plans(result) -> list[dict]:
    return [
        {key: value.value for key, value in event.event_specific_data.asset_observation
         .metadata.items()}
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_OBSERVATION
        and event.asset_key == USERS
    ]


def test_plan_before_and_sync_runs_after_each_push(deployment) -> None:
    job = load_defs().resolve_job_def("nightly_moengage_sync")
    with dg.instance_for_test() as instance:
        runs = [
            job.execute_in_process(partition_key=DAY.isoformat(), instance=instance,
                                   raise_on_error=False, asset_selection=PUSH_KEYS)
            for _ in range(2)
        ]
    assert all(run.success for run in runs)
    (first_plan,), (second_plan,) = (_plans(run) for run in runs)
    first, second = (_push_metadata(run)["moengage/users"] for run in runs)
    # The plan said, before sending, what the push then did.
    assert first_plan["plan_rows_new"] == first["rows_new"] == first["users_sent"] > 0
    assert first_plan["plan_fits_a_day"] is True
    assert second_plan["plan_rows"] == 0
    assert second_plan["plan_rows_unchanged"] == second["rows_unchanged"] == first["rows_valid"]
    assert first["sync_run_exit"] == second["sync_run_exit"] == "ok"
    assert first["sync_runs_table"] == "moengage_sync_runs"
    with duckdb.connect(str(deployment.results), read_only=True) as connection:
        rows = connection.execute(
            "SELECT exit, rows_sent, rows_unchanged FROM moengage_sync_runs "
            "WHERE sync_name = 'moengage/users' ORDER BY started_at"
        ).fetchall()
    assert rows == [("ok", first["users_sent"], 0), ("ok", 0, first["rows_valid"])]
