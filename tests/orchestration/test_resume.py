"""Re-runs and retries through Dagster send nothing twice: the push ledger in the results DB."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import yaml

from dagster_project.components import MoEngagePushComponent
from dagster_project.definitions import defs as load_defs
from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.emulator.faults import FaultRule
from sample_data.generate import DEMO_DAY as DAY
from tests.orchestration.test_nightly_sync import expected_events

PUSHES = ("moengage/users", "moengage/events", "moengage/catalog_items")
PUSH_KEYS = [dg.AssetKey.from_user_string(key) for key in PUSHES]
DEFS_YAML = Path(__file__).resolve().parents[2] / "dagster_project/defs/moengage/defs.yaml"


def _event_keys(emulator) -> Counter:
    return Counter(
        (event["customer_id"], event["action"], int(event["time"]))
        for event in emulator.inspect.events()
    )


def _push_metadata(result) -> dict[str, dict]:
    return {
        event.asset_key.to_user_string(): {
            key: value.value for key, value in event.materialization.metadata.items()
        }
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None and event.asset_key.to_user_string() in PUSHES
    }


def _requests(emulator, endpoint: str) -> int:
    return emulator.inspect.counters().get(endpoint, {}).get("requests", 0)


def test_rerunning_a_partition_through_the_nightly_job_sends_nothing_new(deployment) -> None:
    job = load_defs().resolve_job_def("nightly_moengage_sync")
    emulator = deployment.emulator
    with dg.instance_for_test() as instance:
        first = job.execute_in_process(
            partition_key=DAY.isoformat(), instance=instance, raise_on_error=False,
            asset_selection=PUSH_KEYS,
        )
        assert first.success
        events, users = _event_keys(emulator), dict(emulator.inspect.users())
        requests = {name: _requests(emulator, name) for name in ("transition",
                                                                 "catalog_items_add")}
        second = job.execute_in_process(
            partition_key=DAY.isoformat(), instance=instance, raise_on_error=False,
            asset_selection=PUSH_KEYS,
        )
    assert second.success
    assert _event_keys(emulator) == events == expected_events()[0]
    assert emulator.inspect.users() == users
    assert {name: _requests(emulator, name) for name in requests} == requests

    before, after = _push_metadata(first), _push_metadata(second)
    for key in PUSHES:
        assert before[key]["bodies"] > 0, key
        assert after[key]["bodies"] == 0, key
        if key == "moengage/events":
            assert after[key]["bodies_skipped"] == before[key]["bodies"], key
        else:
            # Users and catalog items are diffed: unchanged rows never reach a body.
            assert after[key]["rows_unchanged"] == before[key]["rows_valid"], key
    assert after["moengage/events"]["rows_skipped"] == before["moengage/events"]["rows_valid"]

    with duckdb.connect(str(deployment.results), read_only=True) as connection:
        runs = connection.execute(
            "SELECT sync_name, status, run_id FROM moengage_push_runs ORDER BY started_at"
        ).fetchall()
    assert Counter(sync for sync, _, _ in runs) == {key: 2 for key in PUSHES}
    assert {status for _, status, _ in runs} == {"succeeded"}
    assert {run_id for _, _, run_id in runs} == {first.run_id, second.run_id}


def _events_component(**overrides: object) -> MoEngagePushComponent:
    documents = list(yaml.safe_load_all(DEFS_YAML.read_text()))
    attributes = next(
        doc["attributes"] for doc in documents if doc["attributes"]["asset"]["key"].endswith(
            "events")
    )
    return MoEngagePushComponent.resolve_from_dict({**attributes, **overrides})


def _events_definitions(**overrides: object) -> dg.Definitions:
    component = _events_component(retry_delay_seconds=0, max_retries=2, **overrides)
    context = dg.ComponentTree.for_test().load_context
    job = dg.define_asset_job("push_events", selection=[dg.AssetKey(["moengage", "events"])])
    return dg.Definitions.merge(
        component.build_defs(context),
        dg.Definitions(jobs=[job], resources={
            "moengage": MoEngageResource(
                workspace_id=dg.EnvVar("MOENGAGE_WORKSPACE_ID"),
                data_api_key=dg.EnvVar("MOENGAGE_DATA_API_KEY"),
                campaign_api_key=dg.EnvVar("MOENGAGE_CAMPAIGN_API_KEY"),
            ),
            "warehouse": WarehouseResource(url=dg.EnvVar("MOENGAGE_WAREHOUSE_URL")),
        }),
    )


def test_a_lost_answer_is_resent_at_least_once_by_default(deployment) -> None:
    definitions = _events_definitions()
    push = definitions.resolve_assets_def(dg.AssetKey(["moengage", "events"]))
    assert push.op.retry_policy is not None
    assert push.op.retry_policy.backoff == dg.Backoff.EXPONENTIAL
    # The second body is applied, then its answer is lost: it is sent again, nothing is lost.
    deployment.emulator.faults.add(
        FaultRule(endpoint="transition", kind="reset", after=1, count=1)
    )
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("push_events").execute_in_process(
            partition_key=DAY.isoformat(), instance=instance, raise_on_error=False
        )
    assert result.success
    expected = expected_events()[0]
    received = _event_keys(deployment.emulator)
    assert set(received) == set(expected)
    extra = sum(count - expected[key] for key, count in received.items())
    metadata = _push_metadata(result)["moengage/events"]
    # A materialization means every body was delivered: no failure figures are shown.
    assert "failed_bodies" not in metadata and metadata["retries"] >= 1
    # The duplicates are exactly the events of the one body whose answer was lost.
    with duckdb.connect(str(deployment.results), read_only=True) as connection:
        [(resent_rows,)] = connection.execute(
            "SELECT sum(rows) FROM moengage_push_ledger "
            "WHERE status = 'sent' AND ambiguous_retries > 0"
        ).fetchall()
    assert extra == resent_rows > 0


def test_under_resend_never_a_retry_holds_the_body_that_may_have_been_applied(
    deployment,
) -> None:
    definitions = _events_definitions(resend="never")
    deployment.emulator.faults.add(
        FaultRule(endpoint="transition", kind="reset", after=1, count=1)
    )
    with dg.instance_for_test() as instance:
        result = definitions.resolve_job_def("push_events").execute_in_process(
            partition_key=DAY.isoformat(), instance=instance, raise_on_error=False
        )
    # At most once: the step failed on the lost answer, Dagster retried it once, the retry
    # skipped what MoEngage accepted and held the body it may have applied (it had); a held
    # body fails the step for good, never silently.
    assert not result.success
    kinds = Counter(event.event_type_value for event in result.all_events)
    assert kinds["STEP_UP_FOR_RETRY"] == 1
    assert _event_keys(deployment.emulator) == expected_events()[0]
    [failure] = result.get_step_failure_events()
    description = failure.step_failure_data.user_failure_data.description
    assert "held back" in description and "resend: ambiguous" in description
