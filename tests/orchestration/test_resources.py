"""Resources validate their settings and never show a secret."""

from __future__ import annotations

import pytest

from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.errors import ConfigError


def test_literal_keys_and_passwords_stay_out_of_reprs() -> None:
    moengage = MoEngageResource(
        workspace_id="WS",
        data_api_key="SECRETKEY1",
        campaign_api_key="SECRETKEY2",
        base_url="http://gateway:PASSW0RD@127.0.0.1:8765",
        rate_budget_store="redis://:PASSW0RD@127.0.0.1:6379/0",
    )
    warehouse = WarehouseResource(
        url="postgresql://u:PASSW0RD@h/db", results_url="postgresql://u:PASSW0RD@h/results"
    )
    for text in (repr(moengage), str(moengage), repr(warehouse), str(warehouse)):
        assert "SECRETKEY" not in text
        assert "PASSW0RD" not in text
    assert moengage.settings().key("data") == "SECRETKEY1"
    assert "PASSW0RD" not in repr(moengage.settings())


@pytest.mark.postgres
def test_the_source_check_names_its_source_without_the_password(postgres_dsn) -> None:
    import uuid

    import psycopg

    from dagster_project.components.moengage_push import MoEngagePushComponent
    from dagster_project.push_execution import source_columns_report

    schema = f"secrets_{uuid.uuid4().hex[:12]}"
    user, rest = postgres_dsn.split("://", 1)[1].split("@", 1)
    url = f"postgresql://{user}:PASSW0RD@{rest}?schema={schema}"  # trust auth ignores it
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
        connection.execute(f'CREATE TABLE "{schema}".people (uid text)')
    component = MoEngagePushComponent.from_attributes_dict(
        attributes={
            "asset": {"key": "moengage/users"},
            "source": {"table": "people"},
            "mapping": {"entity": "users", "customer_id": "uid", "first_name": "name"},
        }
    )
    try:
        result = source_columns_report(component, WarehouseResource(url=url))
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    assert not result.passed and result.metadata["missing_columns"].value == ["name"]
    source = result.metadata["source"].value
    assert schema in source and "***" in source
    assert "PASSW0RD" not in source + repr(result)


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
