"""Resources validate their settings and never show a secret."""

from __future__ import annotations

import pytest

from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.errors import ConfigError


def test_literal_keys_and_passwords_stay_out_of_reprs() -> None:
    moengage = MoEngageResource(
        workspace_id="WS", data_api_key="SECRETKEY1", campaign_api_key="SECRETKEY2"
    )
    warehouse = WarehouseResource(url="postgresql://u:PASSW0RD@h/db")
    for text in (repr(moengage), str(moengage), repr(warehouse), str(warehouse)):
        assert "SECRETKEY" not in text
        assert "PASSW0RD" not in text
    assert moengage.settings().key("data") == "SECRETKEY1"


def test_unknown_data_centre_fails_with_the_list_of_known_ones(monkeypatch) -> None:
    monkeypatch.delenv("MOENGAGE_BASE_URL", raising=False)
    resource = MoEngageResource(workspace_id="WS", data_api_key="k", campaign_api_key="c", dc="9")
    with pytest.raises(ValueError, match="unknown MoEngage data centre '9'"):
        resource.settings()


def test_optional_settings_fall_back_to_the_environment_at_run_time(monkeypatch) -> None:
    monkeypatch.setenv("MOENGAGE_DC", "02")
    monkeypatch.delenv("MOENGAGE_BASE_URL", raising=False)
    resource = MoEngageResource(workspace_id="WS", data_api_key="k", campaign_api_key="c")
    assert resource.settings().api_base == "https://api-02.moengage.com"
    monkeypatch.setenv("MOENGAGE_RESULTS_URL", "duckdb:///tmp/results.duckdb")
    assert WarehouseResource(url="duckdb:///tmp/w.duckdb").output_url().endswith("results.duckdb")


def test_config_error_is_a_value_error() -> None:
    # Dagster shows ValueErrors raised at resource set-up as configuration problems.
    assert issubclass(ConfigError, ValueError)
