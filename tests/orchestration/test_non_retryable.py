"""Failures a retry cannot fix fail the step at once, their cause on the step failure.

Refused credentials, a catalog whose id is unknown, a bad setting: the asset's RetryPolicy
(two retries here) is not used, and the description and metadata say what to fix. Failures
that may pass (a lost answer, in test_resume) keep the retries.
"""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from dagster_project.components import MoEngagePushComponent
from dagster_project.push_failures import is_permanent_error, is_permanent_status
from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.errors import AuthError, ConfigError, RateLimitedError, ServerError
from moengage_pipelines.push.mapping import MappingError
from sample_data.generate import DEMO_DAY

DEFS_YAML = Path(__file__).resolve().parents[2] / "dagster_project/defs/moengage/defs.yaml"
WRONG_KEY = "WRONG-DATA-KEY-0123456789"


def _definitions(entity_key: str) -> dg.Definitions:
    documents = yaml.safe_load_all(DEFS_YAML.read_text())
    attributes = next(doc["attributes"] for doc in documents
                      if doc["attributes"]["asset"]["key"] == entity_key)
    component = MoEngagePushComponent.resolve_from_dict(
        {**attributes, "max_retries": 2, "retry_delay_seconds": 0}
    )
    key = dg.AssetKey.from_user_string(entity_key)
    return dg.Definitions.merge(
        component.build_defs(dg.ComponentTree.for_test().load_context),
        dg.Definitions(
            jobs=[dg.define_asset_job("push", selection=[key])],
            resources={
                "moengage": MoEngageResource(
                    workspace_id=dg.EnvVar("MOENGAGE_WORKSPACE_ID"),
                    data_api_key=dg.EnvVar("MOENGAGE_DATA_API_KEY"),
                    campaign_api_key=dg.EnvVar("MOENGAGE_CAMPAIGN_API_KEY"),
                ),
                "warehouse": WarehouseResource(url=dg.EnvVar("MOENGAGE_WAREHOUSE_URL")),
            },
        ),
    )


def _run(definitions: dg.Definitions, partition: str | None) -> dg.ExecuteInProcessResult:
    with dg.instance_for_test() as instance:
        return definitions.resolve_job_def("push").execute_in_process(
            partition_key=partition, instance=instance, raise_on_error=False
        )


def _the_failure(result: dg.ExecuteInProcessResult) -> tuple[str, dict]:
    assert not result.success
    kinds = Counter(event.event_type_value for event in result.all_events)
    assert kinds["STEP_UP_FOR_RETRY"] == 0, "a failure no retry can fix was retried"
    [failure] = result.get_step_failure_events()
    data = failure.step_failure_data.user_failure_data
    return data.description, {key: value.value for key, value in data.metadata.items()}


def test_a_wrong_data_key_fails_at_once_with_moengages_answer(deployment) -> None:
    # Changes inside the deployment's environment are undone before the deployment's own.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOENGAGE_DATA_API_KEY", WRONG_KEY)
        result = _run(_definitions("moengage/events"), DEMO_DAY.isoformat())
    description, metadata = _the_failure(result)
    assert "401" in description and "Not retried" in description
    assert metadata["retryable"] is False
    assert metadata["cause"].startswith("401")
    assert WRONG_KEY not in description + repr(metadata)
    assert deployment.emulator.inspect.events() == []


def test_an_answer_quoting_the_credentials_shows_no_key(deployment) -> None:
    # A refusal that quotes the request's Authorization header, as a misbehaving proxy does.
    deployment.emulator.faults.add(FaultRule(endpoint="transition", kind="echo_auth", status=400))
    result = _run(_definitions("moengage/events"), DEMO_DAY.isoformat())
    _, metadata = _the_failure(result)  # every body refused: not retried
    assert metadata["retryable"] is False
    settings = deployment.emulator.settings
    token = base64.b64encode(
        f"{settings.workspace_id}:{settings.data_api_key}".encode()
    ).decode()
    for failure in result.get_step_failure_events():
        data = failure.step_failure_data.user_failure_data
        shown = data.description + repr(data.metadata)
        assert "MoEngage did not accept" in data.description
        assert settings.data_api_key not in shown and token not in shown


def test_a_catalog_whose_id_is_unknown_fails_at_once(deployment, tmp_path) -> None:
    definitions = _definitions("moengage/catalog_items")
    assert _run(definitions, None).success
    # A new results database has forgotten the catalog's id; MoEngage cannot look it up.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOENGAGE_RESULTS_URL", f"duckdb:///{tmp_path / 'fresh.duckdb'}")
        description, metadata = _the_failure(_run(definitions, None))
    assert "already exists but its id is unknown" in description
    assert "set catalog_id in the mapping" in metadata["cause"]
    assert metadata["error"] == "MappingError" and metadata["retryable"] is False


def test_a_missing_source_table_fails_at_once(deployment, tmp_path) -> None:
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOENGAGE_WAREHOUSE_URL", f"duckdb:///{empty}")
        description, metadata = _the_failure(
            _run(_definitions("moengage/events"), DEMO_DAY.isoformat())
        )
    assert "events" in metadata["cause"] and metadata["retryable"] is False
    assert "the source cannot be read" in description


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (AuthError(401, "bad key"), True),
        (MappingError("bad mapping"), True),
        (ConfigError("missing key"), True),
        (ServerError(503, "busy"), False),
        (RateLimitedError(429, "slow down"), False),
    ],
)
def test_only_failures_a_retry_cannot_fix_skip_the_retry_policy(
    error: Exception, permanent: bool
) -> None:
    assert is_permanent_error(error) is permanent


def test_a_delivery_stopped_by_a_5xx_or_429_stays_retryable() -> None:
    assert is_permanent_status(401) and is_permanent_status(403)
    assert not is_permanent_status(503)
    assert not is_permanent_status(429)
    assert not is_permanent_status(None)
