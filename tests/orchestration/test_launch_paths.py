"""The blocking column check gates every way a push is launched, the UI's included.

These tests launch through Dagster's GraphQL API, the one the UI's buttons call, against the
code location loaded out of process (as ``dg dev`` loads it): a run launched from the UI's
materialize dialog (with the checks the UI lists for the asset), and an asset backfill handled
by the backfill daemon, over three days (one ranged run) and over eight (two runs, the push's
backfill policy being multi_run(7)). ``dg launch`` goes through a subprocess; the schedule's
job runs are covered in test_source_checks.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.events import DagsterEventType
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.test_utils import wait_for_runs_to_finish
from dagster._daemon.backfill import execute_backfill_iteration
from dagster_graphql.client.query import LAUNCH_PIPELINE_EXECUTION_MUTATION
from dagster_graphql.test.utils import (
    define_out_of_process_context,
    execute_dagster_graphql,
    infer_job_selector,
)

from sample_data.generate import DEMO_DAY
from tests.orchestration.test_backfill import DAYS, assert_each_partition_tells_its_own_truth

REPO = Path(__file__).parents[2]
DEFINITIONS = str(REPO / "dagster_project/definitions.py")
EVENTS = dg.AssetKey(["moengage", "events"])
COLUMNS_CHECK = "has_columns_for_moengage__events"

ASSET_CHECKS_QUERY = """
query AssetChecks($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
  }
}
"""

LAUNCH_BACKFILL = """
mutation LaunchBackfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""


def _instance():
    """A test instance that launches runs at once (the UI's queue needs the daemon)."""
    return dg.instance_for_test(
        overrides={
            "run_coordinator": {
                "module": "dagster._core.run_coordinator",
                "class": "DefaultRunCoordinator",
            }
        }
    )


def _ui_check_selection(context, key: dg.AssetKey) -> list[dict]:
    """The checks the UI's materialize dialog sends with an asset: those its node lists."""
    answer = execute_dagster_graphql(
        context, ASSET_CHECKS_QUERY, {"keys": [{"path": key.path}]}
    )
    [node] = answer.data["assetNodes"]
    return [
        {"assetKey": {"path": key.path}, "name": check["name"]}
        for check in node["assetChecksOrError"]["checks"]
    ]


def _events(instance: dg.DagsterInstance, run_id: str, kind: DagsterEventType) -> list:
    return [
        record.dagster_event for record in instance.all_logs(run_id, of_type=kind)
    ]


def _check_evaluations(instance: dg.DagsterInstance, run_id: str) -> dict[str, bool]:
    return {
        event.event_specific_data.check_name: event.event_specific_data.passed
        for event in _events(instance, run_id, DagsterEventType.ASSET_CHECK_EVALUATION)
    }


def _rename_platform(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("ALTER TABLE events RENAME COLUMN platform TO device_platform")


@pytest.mark.parametrize(
    "job",
    [
        "__ASSET_JOB",  # the asset page's Materialize button
        "nightly_moengage_sync",  # the job's launchpad, with the asset picked
    ],
)
def test_a_ui_launch_of_a_partition_runs_the_column_check(deployment, job: str) -> None:
    with (
        _instance() as instance,
        define_out_of_process_context(DEFINITIONS, "defs", instance) as context,
    ):
        checks = _ui_check_selection(context, EVENTS)
        assert COLUMNS_CHECK in {check["name"] for check in checks}
        selector = infer_job_selector(
            context, job, asset_selection=[{"path": EVENTS.path}],
            asset_check_selection=checks,
        )
        answer = execute_dagster_graphql(
            context,
            LAUNCH_PIPELINE_EXECUTION_MUTATION,
            {
                "executionParams": {
                    "selector": selector,
                    "executionMetadata": {
                        "tags": [{"key": "dagster/partition", "value": DEMO_DAY.isoformat()}]
                    },
                }
            },
        )
        run_id = answer.data["launchPipelineExecution"]["run"]["runId"]
        wait_for_runs_to_finish(instance, timeout=180)
        run = instance.get_run_by_id(run_id)
        evaluations = _check_evaluations(instance, run_id)
        materialized = _events(instance, run_id, DagsterEventType.ASSET_MATERIALIZATION)
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert evaluations[COLUMNS_CHECK] is True
    assert [event.partition for event in materialized] == [DEMO_DAY.isoformat()]
    assert deployment.emulator.inspect.events()


def _run_backfill(context, instance: dg.DagsterInstance, days: list[str]) -> list[dg.DagsterRun]:
    answer = execute_dagster_graphql(
        context,
        LAUNCH_BACKFILL,
        {"params": {"partitionNames": days, "assetSelection": [{"path": EVENTS.path}]}},
    )
    launched = answer.data["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]
    logger = logging.getLogger("backfill-daemon")
    # What the backfill daemon does on each tick, until the backfill is complete.
    for _ in range(10):
        list(execute_backfill_iteration(context.process_context, logger))
        wait_for_runs_to_finish(instance, timeout=180)
        if instance.get_backfill(backfill_id).status != BulkActionStatus.REQUESTED:
            break
    return list(instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id)))


def test_a_ui_backfill_over_a_renamed_column_sends_nothing(deployment) -> None:
    _rename_platform(deployment.warehouse)
    # Eight days: the push's multi_run(7) backfill policy makes two ranged runs of them.
    days = [(DEMO_DAY - dt.timedelta(days=offset)).isoformat() for offset in range(8)][::-1]
    with (
        _instance() as instance,
        define_out_of_process_context(DEFINITIONS, "defs", instance) as context,
    ):
        runs = _run_backfill(context, instance, days)
        evaluations = [_check_evaluations(instance, run.run_id) for run in runs]
        failures = [
            _events(instance, run.run_id, DagsterEventType.STEP_FAILURE) for run in runs
        ]
        retries = [
            _events(instance, run.run_id, DagsterEventType.STEP_UP_FOR_RETRY) for run in runs
        ]
        materialized = [
            _events(instance, run.run_id, DagsterEventType.ASSET_MATERIALIZATION)
            for run in runs
        ]
    assert len(runs) == 2
    assert all(run.status == dg.DagsterRunStatus.FAILURE for run in runs)
    assert evaluations == [{COLUMNS_CHECK: False}, {COLUMNS_CHECK: False}]
    assert retries == [[], []]  # a missing column is not worth a retry
    for [failure] in failures:
        description = failure.step_failure_data.user_failure_data.description
        assert "missing columns: platform" in description
    assert materialized == [[], []]
    assert deployment.emulator.inspect.events() == []


def test_dg_launch_runs_the_column_check_and_stops_the_push(deployment) -> None:
    _rename_platform(deployment.warehouse)
    home = deployment.results.parent / "dagster_home"
    home.mkdir()
    environment = {**os.environ, "DAGSTER_HOME": str(home)}
    launched = subprocess.run(
        [str(Path(sys.executable).parent / "dg"), "launch", "--assets",
         'key:"moengage/events"', "--partition", DEMO_DAY.isoformat()],
        cwd=REPO, env=environment, capture_output=True, text=True, check=False, timeout=600,
    )
    assert launched.returncode != 0
    output = launched.stdout + launched.stderr
    assert COLUMNS_CHECK in output
    assert "missing columns: platform" in output
    assert deployment.emulator.inspect.events() == []


def test_a_ui_backfill_of_three_days_gives_each_day_its_own_figures(deployment) -> None:
    with (
        _instance() as instance,
        define_out_of_process_context(DEFINITIONS, "defs", instance) as context,
    ):
        [run] = _run_backfill(context, instance, DAYS)
        evaluations = _check_evaluations(instance, run.run_id)
        materializations = [
            event.event_specific_data.materialization
            for event in _events(instance, run.run_id, DagsterEventType.ASSET_MATERIALIZATION)
        ]
    assert run.status == dg.DagsterRunStatus.SUCCESS
    assert evaluations[COLUMNS_CHECK] is True
    assert_each_partition_tells_its_own_truth(
        materializations, deployment.warehouse, deployment.results
    )
