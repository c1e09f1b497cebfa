"""The read-back check of the users push: Get User on a sample, a warning on any mismatch."""

from __future__ import annotations

import dagster as dg
import pytest

from dagster_project.components import MoEngagePushComponent
from dagster_project.definitions import defs as load_defs
from moengage_pipelines.push.reconcile import RECONCILIATION_TABLE
from moengage_pipelines.warehouse import Warehouse
from sample_data.generate import DEMO_DAY

USERS = dg.AssetKey(["moengage", "users"])


def _run(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    job = load_defs().resolve_implicit_global_asset_job_def()
    return job.get_subset(asset_selection={USERS}).execute_in_process(
        partition_key=DEMO_DAY.isoformat(), instance=instance
    )


def _evaluation(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (found,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "read_back_matches"
    ]
    return found


def test_the_check_passes_then_warns_with_the_attribute_that_differs(deployment) -> None:
    with dg.instance_for_test() as instance:
        clean = _evaluation(_run(instance))
        assert clean.passed
        sampled = clean.metadata["users_sampled"].value
        assert sampled > 0 and clean.metadata["mismatches"].value == 0
        assert clean.metadata["partition"].value == DEMO_DAY.isoformat()

        # MoEngage's copy of one pushed user changes; the next run reads the sample back again.
        emulator = deployment.emulator
        customer_id = next(iter(emulator.inspect.users()))
        emulator.inspect.set_user_attributes(customer_id, {"city": "Atlantis", "plan": None})
        # The demo day holds fewer than 100 users: the sample is every one of them.
        assert sampled == len(emulator.inspect.users())
        warned = _evaluation(_run(instance))
    assert not warned.passed
    assert warned.severity == dg.AssetCheckSeverity.WARN
    assert warned.metadata["mismatches_by_attribute"].value == {"city": 1, "plan": 1}
    with Warehouse.open(f"duckdb:///{deployment.results}") as results:
        rows = results.query(f"SELECT customer_id, attribute, reason FROM {RECONCILIATION_TABLE}")
    assert sorted(rows.to_pylist(), key=lambda r: r["attribute"]) == [
        {"customer_id": customer_id, "attribute": "city", "reason": "different"},
        {"customer_id": customer_id, "attribute": "plan", "reason": "missing"},
    ]


def test_verify_sample_is_refused_on_a_push_other_than_users() -> None:
    component = MoEngagePushComponent(
        asset=dg.AssetSpec(dg.AssetKey(["moengage", "events"])),
        source={"table": "events"},
        mapping={"entity": "events", "customer_id": "uid", "event_name": "Signup"},
        verify_sample=10,
    )
    with pytest.raises(ValueError, match="maps events"):
        component.build_defs(None)  # type: ignore[arg-type]
