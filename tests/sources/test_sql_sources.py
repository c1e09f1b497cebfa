from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from moengage_pipelines.sources import DuckDBSource, PostgresSource, SourceError
from moengage_pipelines.warehouse import TableNotFoundError, Warehouse
from tests.sources.factories import SourceFactory, read_all


def test_batches_never_exceed_batch_rows(make_source: SourceFactory) -> None:
    source = make_source(pa.table({"id": pa.array(range(20_000), pa.int64())}))
    batches = list(source.iter_batches(batch_rows=1_500))
    assert max(b.num_rows for b in batches) <= 1_500
    assert len(batches) >= 20_000 // 1_500
    assert sorted(pa.Table.from_batches(batches).column("id").to_pylist()) == list(range(20_000))


def test_schema_without_reading(make_source: SourceFactory) -> None:
    source = make_source(pa.table({"id": [1], "name": ["a"]}))
    assert source.schema(["name"]) == pa.schema([("name", pa.string())])  # type: ignore[attr-defined]


def test_duckdb_missing_table_is_named(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    with Warehouse.open(f"duckdb://{path}") as warehouse:
        warehouse.append("present", pa.table({"id": [1]}))
    with pytest.raises(TableNotFoundError, match="'absent'"):
        read_all(DuckDBSource(path, table="absent"))


def test_duckdb_source_reads_while_a_writer_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    with Warehouse.open(f"duckdb://{path}") as writer:
        writer.append("t", pa.table({"id": [1, 2]}))
        assert read_all(DuckDBSource(path, table="t")).num_rows == 2
        writer.append("t", pa.table({"id": [3]}))
        assert read_all(DuckDBSource(f"duckdb://{path}", table="t")).num_rows == 3


def test_source_over_an_open_warehouse(warehouse: Warehouse) -> None:
    warehouse.append("t", pa.table({"id": [1, 2, 3]}))
    cls = DuckDBSource if warehouse.kind == "duckdb" else PostgresSource
    source = cls(warehouse, sql="SELECT id FROM t WHERE id > 1")
    assert sorted(read_all(source).column("id").to_pylist()) == [2, 3]
    assert warehouse.count("t") == 3  # the warehouse stays open


def test_exactly_one_of_table_or_sql(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="exactly one"):
        DuckDBSource(tmp_path / "x.duckdb")
    with pytest.raises(SourceError, match="exactly one"):
        DuckDBSource(tmp_path / "x.duckdb", table="t", sql="SELECT 1")


def test_sql_with_trailing_semicolon_and_percent(tmp_path: Path) -> None:
    path = tmp_path / "db.duckdb"
    with Warehouse.open(f"duckdb://{path}") as warehouse:
        warehouse.append("t", pa.table({"name": ["a%", "b"]}))
    source = DuckDBSource(path, sql="SELECT name FROM t WHERE name LIKE 'a%';")
    assert read_all(source).column("name").to_pylist() == ["a%"]


@pytest.mark.postgres
def test_postgres_missing_table_is_named(pg_url: str) -> None:
    with pytest.raises(TableNotFoundError, match="absent"):
        read_all(PostgresSource(pg_url, table="absent"))


@pytest.mark.postgres
def test_postgres_describe_and_errors_hide_the_password(postgres_dsn: str, pg_schema: str) -> None:
    url = postgres_dsn.replace("postgres@", "postgres:topsecret@") + f"?schema={pg_schema}"
    source = PostgresSource(url, table="events", time_column="ts")
    assert "topsecret" not in source.describe()
    assert "topsecret" not in repr(source)
    with pytest.raises(TableNotFoundError) as caught:
        read_all(source)
    assert "topsecret" not in str(caught.value)
    bad = PostgresSource(url.replace(":5432", ":1"), table="events")
    with pytest.raises(Exception) as caught_connect:
        read_all(bad)
    assert "topsecret" not in str(caught_connect.value)


@pytest.mark.postgres
def test_postgres_json_uuid_and_numeric(pg_url: str) -> None:
    with Warehouse.open(pg_url) as warehouse:
        warehouse.execute(
            "CREATE TABLE odd "
            "(doc jsonb, id uuid, amount numeric, price numeric(12,3), tags text[])"
        )
        warehouse.execute(
            "INSERT INTO odd VALUES ('{\"a\": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
            "12.5, 3.250, ARRAY['x', NULL])"
        )
    table = read_all(PostgresSource(pg_url, table="odd"))
    assert table.schema.field("doc").type == pa.string()
    assert table.schema.field("amount").type == pa.float64()
    assert table.schema.field("price").type == pa.decimal128(12, 3)
    row = table.to_pylist()[0]
    assert row["doc"] == '{"a": [1, 2]}'
    assert row["id"] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    assert row["amount"] == 12.5
    assert str(row["price"]) == "3.250"
    assert row["tags"] == ["x", None]
