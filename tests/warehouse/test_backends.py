"""Backends register themselves for a URL kind; the shared write creates tables they can read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from moengage_pipelines.warehouse import (
    DuckDBWarehouse,
    PostgresWarehouse,
    Warehouse,
    WarehouseError,
    quote_literal,
)


def test_open_hands_each_url_kind_to_its_backend(tmp_path: Path) -> None:
    with Warehouse.open(f"duckdb://{tmp_path / 'w.duckdb'}") as warehouse:
        assert type(warehouse) is DuckDBWarehouse
        assert warehouse.kind == "duckdb"
    assert PostgresWarehouse.kind == "postgres"


@pytest.mark.postgres
def test_open_hands_postgres_urls_to_the_postgres_backend(pg_url: str) -> None:
    with Warehouse.open(pg_url, read_only=True) as warehouse:
        assert type(warehouse) is PostgresWarehouse


def test_a_second_backend_for_a_kind_is_refused() -> None:
    with pytest.raises(TypeError, match="DuckDBWarehouse already serves 'duckdb'"):

        class OtherDuckDB(Warehouse, kind="duckdb"):  # pragma: no cover - never created
            pass


def test_a_subclass_without_kind_leaves_the_registration_alone(tmp_path: Path) -> None:
    class TracedDuckDB(DuckDBWarehouse):
        pass

    assert TracedDuckDB.kind == "duckdb"
    with Warehouse.open(f"duckdb://{tmp_path / 'w.duckdb'}") as warehouse:
        assert type(warehouse) is DuckDBWarehouse


def test_quote_literal_doubles_single_quotes() -> None:
    assert quote_literal("it's") == "'it''s'"
    assert quote_literal("") == "''"
    with pytest.raises(WarehouseError, match="literal"):
        quote_literal("a\x00b")


def test_duckdb_tables_keep_nested_arrow_types(tmp_path: Path) -> None:
    data = pa.table(
        {
            "profile": pa.array([{"city": "Pune", "visits": 3}, None]),
            "scores": pa.array([{"a": 1}, {}], pa.map_(pa.string(), pa.int64())),
            "tags": pa.array([["x", None], []], pa.list_(pa.string())),
            "segment": pa.array(["gold", "gold"]).dictionary_encode(),
            "seen": pa.array(
                [dt.datetime(2025, 1, 2, tzinfo=dt.UTC), None], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    with Warehouse.open(f"duckdb://{tmp_path / 'w.duckdb'}", schema="nested") as warehouse:
        warehouse.append("t", data)
        warehouse.append("t", data.slice(0, 1).append_column("extra", pa.array([1.5])))
        schema = warehouse.table_schema("t")
        rows = warehouse.query("SELECT * FROM t").to_pylist()
    profile = pa.struct([("city", pa.string()), ("visits", pa.int64())])
    assert schema.field("profile").type == profile
    assert schema.field("scores").type == pa.map_(pa.string(), pa.int64())
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("segment").type == pa.string()
    assert schema.field("extra").type == pa.float64()
    assert rows[0]["profile"] == {"city": "Pune", "visits": 3}
    assert rows[0]["scores"] == [("a", 1)]
    assert rows[0]["tags"] == ["x", None]
    assert [row["extra"] for row in rows] == [None, None, 1.5]
