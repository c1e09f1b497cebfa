"""A push taking its rows from an upstream asset's value, loaded by that asset's IO manager."""

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from dagster._core.storage.db_io_manager import DbTypeHandler, TableSlice
from dagster_duckdb import DuckDBIOManager
from dagster_duckdb.io_manager import DuckDbClient

from dagster_project.components.moengage_push import MoEngagePushComponent
from dagster_project.partitions import DAILY
from dagster_project.resources import MoEngageResource, WarehouseResource

DAYS = [dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
DAY = DAYS[1]
UPSTREAM = dg.AssetKey(["analytics", "active_events"])
PUSH = dg.AssetKey(["moengage", "active_events"])


class ArrowOrPandasHandler(DbTypeHandler):
    """Stores Arrow tables and pandas DataFrames in DuckDB; loads them back as the input asks."""

    def handle_output(self, context, table_slice: TableSlice, obj, connection) -> None:
        connection.register("incoming", obj)
        name = f"{table_slice.schema}.{table_slice.table}"
        connection.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM incoming LIMIT 0")
        connection.execute(f"INSERT INTO {name} SELECT * FROM incoming")
        connection.unregister("incoming")

    def load_input(self, context, table_slice: TableSlice, connection):
        result = connection.sql(DuckDbClient.get_select_statement(table_slice))
        if context.dagster_type.typing_type is pd.DataFrame:
            return result.df()
        return result.to_arrow_table()

    @property
    def supported_types(self) -> Sequence[type]:
        return [pa.Table, pd.DataFrame]


class TestDuckDBIOManager(DuckDBIOManager):
    __test__ = False

    @staticmethod
    def type_handlers() -> Sequence[DbTypeHandler]:
        return [ArrowOrPandasHandler()]

    @staticmethod
    def default_load_type() -> type | None:
        return pa.Table


def events_of(days: Sequence[dt.date]) -> pa.Table:
    """Six events a day, at 01:00, 05:00, ..., 21:00 UTC."""
    rows = [
        (f"user-{day.day}-{hour}", dt.datetime.combine(day, dt.time(hour)), hour * 1.5)
        for day in days
        for hour in range(1, 24, 4)
    ]
    return pa.table(
        {
            "customer_id": [row[0] for row in rows],
            "event_time": pa.array([row[1] for row in rows], pa.timestamp("us")),
            "amount": [row[2] for row in rows],
        }
    )


@pytest.fixture
def env(monkeypatch, moengage_emulator_server, tmp_path: Path):
    settings = moengage_emulator_server.emulator.settings
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", settings.workspace_id)
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", settings.data_api_key)
    monkeypatch.setenv("MOENGAGE_CAMPAIGN_API_KEY", settings.campaign_api_key)
    monkeypatch.setenv("MOENGAGE_BASE_URL", moengage_emulator_server.url)
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", "memory")
    monkeypatch.delenv("MOENGAGE_DC", raising=False)
    return moengage_emulator_server.emulator


def push_definitions(tmp_path: Path, upstream: dg.AssetsDefinition) -> dg.Definitions:
    component = MoEngagePushComponent.resolve_from_dict(
        {
            "asset": {"key": PUSH.to_user_string()},
            "source": {"upstream": UPSTREAM.to_user_string(), "time_column": "event_time"},
            "mapping": {
                "entity": "events",
                "customer_id": "customer_id",
                "event_name": "Purchase",
                "event_time_column": "event_time",
                "attributes": ["amount"],
            },
            "max_retries": 0,
        }
    )
    context = dg.ComponentTree.for_test().load_context
    results = f"duckdb:///{tmp_path / 'results.duckdb'}"
    return dg.Definitions.merge(
        component.build_defs(context),
        dg.Definitions(
            assets=[upstream],
            resources={
                "moengage": MoEngageResource(
                    workspace_id=dg.EnvVar("MOENGAGE_WORKSPACE_ID"),
                    data_api_key=dg.EnvVar("MOENGAGE_DATA_API_KEY"),
                    campaign_api_key=dg.EnvVar("MOENGAGE_CAMPAIGN_API_KEY"),
                ),
                "warehouse": WarehouseResource(url=results),
                "analytics_io": TestDuckDBIOManager(database=str(tmp_path / "lake.duckdb")),
                "files_io": dg.FilesystemIOManager(base_dir=str(tmp_path / "storage")),
            },
        ),
    )


def materialize(definitions: dg.Definitions, key: dg.AssetKey, instance, *, raise_on_error=True):
    job = dg.define_asset_job(f"only_{key.to_python_identifier()}", selection=[key])
    resolved = dg.Definitions.merge(definitions, dg.Definitions(jobs=[job]))
    partitioned = resolved.resolve_assets_def(key).partitions_def is not None
    return resolved.resolve_job_def(job.name).execute_in_process(
        partition_key=DAY.isoformat() if partitioned else None,
        instance=instance,
        raise_on_error=raise_on_error,
    )


def sent(emulator) -> list[tuple[str, float]]:
    return sorted(
        (event["customer_id"], event["attributes"]["amount"])
        for event in emulator.inspect.events()
    )


def test_an_arrow_table_is_loaded_from_duckdb_for_the_partition(env, tmp_path):
    @dg.asset(
        key=UPSTREAM,
        partitions_def=DAILY,
        io_manager_key="analytics_io",
        metadata={"partition_expr": "event_time"},
    )
    def active_events(context: dg.AssetExecutionContext) -> pa.Table:
        return events_of([dt.date.fromisoformat(context.partition_key)])

    definitions = push_definitions(tmp_path, active_events)
    with dg.instance_for_test() as instance:
        assert materialize(definitions, UPSTREAM, instance).success
        # What the push sends is what the IO manager loads from DuckDB, not the function's
        # return value: change it in the table.
        with duckdb.connect(str(tmp_path / "lake.duckdb")) as connection:
            connection.execute("UPDATE analytics.active_events SET amount = amount + 100")
        result = materialize(definitions, PUSH, instance)

    assert result.success
    expected = events_of([DAY])
    assert sent(env) == sorted(
        zip(expected.column("customer_id").to_pylist(),
            [amount + 100 for amount in expected.column("amount").to_pylist()], strict=True)
    )
    node = f"push_{PUSH.to_python_identifier()}"
    [materialization] = result.asset_materializations_for_node(node)
    assert materialization.metadata["rows_read"].value == expected.num_rows


def test_a_dataframe_of_every_day_pushes_only_the_partitions_day(env, tmp_path):
    @dg.asset(key=UPSTREAM, io_manager_key="analytics_io")
    def active_events() -> pd.DataFrame:
        return events_of(DAYS).to_pandas()

    definitions = push_definitions(tmp_path, active_events)
    with dg.instance_for_test() as instance:
        assert materialize(definitions, UPSTREAM, instance).success
        result = materialize(definitions, PUSH, instance)

    assert result.success
    expected = events_of([DAY])
    assert sent(env) == sorted(
        zip(expected.column("customer_id").to_pylist(), expected.column("amount").to_pylist(),
            strict=True)
    )


def test_a_parquet_path_is_streamed(env, tmp_path):
    folder = tmp_path / "exported"
    folder.mkdir()
    for day in DAYS:
        pq.write_table(events_of([day]), folder / f"{day.isoformat()}.parquet")

    @dg.asset(key=UPSTREAM, io_manager_key="files_io")
    def active_events() -> str:
        return str(folder)

    definitions = push_definitions(tmp_path, active_events)
    with dg.instance_for_test() as instance:
        assert materialize(definitions, UPSTREAM, instance).success
        result = materialize(definitions, PUSH, instance)

    assert result.success
    assert sorted(customer for customer, _ in sent(env)) == sorted(
        events_of([DAY]).column("customer_id").to_pylist()
    )


def test_a_value_that_is_not_rows_fails_the_step_with_its_type(env, tmp_path):
    @dg.asset(key=UPSTREAM, io_manager_key="files_io")
    def active_events() -> dict:
        return {"customer_id": ["user-1"]}

    definitions = push_definitions(tmp_path, active_events)
    with dg.instance_for_test() as instance:
        assert materialize(definitions, UPSTREAM, instance).success
        result = materialize(definitions, PUSH, instance, raise_on_error=False)

    assert not result.success
    [failure] = result.get_step_failure_events()
    error, messages = failure.step_failure_data.error, []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    assert any("upstream asset analytics/active_events loaded a dict" in m for m in messages)
    assert env.inspect.events() == []


def test_the_push_asset_depends_on_the_upstream_asset(tmp_path):
    @dg.asset(key=UPSTREAM, io_manager_key="analytics_io")
    def active_events() -> pa.Table:
        return events_of(DAYS)

    definitions = push_definitions(tmp_path, active_events)
    graph = definitions.resolve_asset_graph()

    assert graph.get(PUSH).parent_keys == {UPSTREAM}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"upstream": "a/b", "table": "events"}, "exactly one of table, sql, parquet, upstream"),
        ({"upstream": "a/b", "order_by": ["id"]}, "order_by is for table or sql sources"),
    ],
)
def test_an_upstream_source_takes_nothing_else(source, message):
    with pytest.raises(Exception, match=message):
        MoEngagePushComponent.resolve_from_dict(
            {
                "asset": {"key": "moengage/x"},
                "source": source,
                "mapping": {"entity": "users", "customer_id": "id"},
            }
        )
