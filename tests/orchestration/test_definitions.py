"""The code location loads without secrets and has the lineage, job and schedule we promise."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from dagster_project.definitions import defs as load_defs

MOENGAGE_VARIABLES = (
    "MOENGAGE_WORKSPACE_ID",
    "MOENGAGE_DATA_API_KEY",
    "MOENGAGE_CAMPAIGN_API_KEY",
    "MOENGAGE_DC",
    "MOENGAGE_BASE_URL",
    "MOENGAGE_WAREHOUSE_URL",
    "MOENGAGE_RESULTS_URL",
)


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    with pytest.MonkeyPatch.context() as patch:
        for name in MOENGAGE_VARIABLES:
            patch.delenv(name, raising=False)
        loaded = load_defs()
        dg.Definitions.validate_loadable(loaded)
    return loaded


def _key(text: str) -> dg.AssetKey:
    return dg.AssetKey.from_user_string(text)


def test_lineage_runs_warehouse_to_moengage_to_reports(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "warehouse/users",
        "warehouse/events",
        "moengage/users",
        "moengage/events",
        "moengage_reports/campaign_stats",
    } <= keys
    assert _key("warehouse/users") in graph.get(_key("moengage/users")).parent_keys
    assert _key("warehouse/events") in graph.get(_key("moengage/events")).parent_keys
    stats_parents = graph.get(_key("moengage_reports/campaign_stats")).parent_keys
    assert {_key("moengage/users"), _key("moengage/events")} <= stats_parents


def test_push_assets_share_the_daily_partitions(definitions: dg.Definitions) -> None:
    from dagster_project.partitions import DAILY

    graph = definitions.resolve_asset_graph()
    for key in ("warehouse/events", "moengage/users", "moengage/events"):
        assert graph.get(_key(key)).partitions_def == DAILY, key
    assert DAILY.timezone == "UTC"


def test_push_assets_carry_the_moengage_kind_and_a_reject_check(
    definitions: dg.Definitions,
) -> None:
    graph = definitions.resolve_asset_graph()
    for key in ("moengage/users", "moengage/events"):
        node = graph.get(_key(key))
        assert "moengage" in node.kinds
        check_names = {check.name for check in node.check_keys}
        assert "rejected_rows_within_threshold" in check_names


def test_nightly_schedule_targets_yesterday(definitions: dg.Definitions) -> None:
    schedule = definitions.resolve_schedule_def("nightly_moengage_sync_schedule")
    tick = dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        result = schedule.evaluate_tick(context)
    assert result.run_requests is not None
    assert [request.partition_key for request in result.run_requests] == ["2025-03-09"]


def test_secrets_are_bound_to_environment_variables(definitions: dg.Definitions) -> None:
    resource = definitions.resources["moengage"]
    # EnvVar keeps the name, never a value, in the definitions the UI shows.
    assert isinstance(resource.data_api_key, dg.EnvVar) or "MOENGAGE_DATA_API_KEY" in repr(
        resource.data_api_key
    )


def test_readme_lineage_picture_matches_the_definitions(definitions: dg.Definitions) -> None:
    from pathlib import Path

    from dagster_project.lineage import render_mermaid

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert f"```mermaid\n{render_mermaid(definitions)}\n```" in readme, (
        "README lineage is stale: regenerate it with `python -m dagster_project.lineage`"
    )


def test_push_assets_show_their_engine_the_fields_sent_and_the_blocking_column_check(
    definitions: dg.Definitions,
) -> None:
    graph = definitions.resolve_asset_graph()
    for key in ("moengage/users", "moengage/events", "moengage/catalog_items"):
        node = graph.get(_key(key))
        assert {"moengage", "duckdb"} <= node.kinds, key
        sent = node.metadata["dagster/column_schema"].schema.columns
        assert sent and all(column.type for column in sent), key
        identifier = _key(key).to_python_identifier()
        columns_check = dg.AssetCheckKey(_key(key), f"has_columns_for_{identifier}")
        assert columns_check in node.check_keys, key
        spec = definitions.resolve_assets_def(_key(key)).get_spec_for_check_key(columns_check)
        assert spec.blocking, key
    events_sent = {
        column.name for column in
        graph.get(_key("moengage/events")).metadata["dagster/column_schema"].schema.columns
    }
    assert {"customer_id", "action", "current_time", "attributes.revenue"} <= events_sent


def test_python_defined_assets_have_owners_and_code_references(
    definitions: dg.Definitions,
) -> None:
    from pathlib import Path

    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners, key.to_user_string()
        [reference] = node.metadata["dagster/code_references"].code_references
        path = Path(reference.file_path)
        assert path.exists() and reference.line_number >= 1, key.to_user_string()
        assert path.suffix in {".py", ".yaml"}
    users = graph.get(_key("warehouse/users")).metadata["dagster/code_references"]
    [reference] = users.code_references
    written = Path(reference.file_path).read_text().splitlines()[reference.line_number - 1]
    assert written.startswith("users = dg.AssetSpec(")
