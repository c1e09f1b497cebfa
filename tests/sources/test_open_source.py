from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.sources import (
    DuckDBSource,
    ParquetSource,
    PostgresSource,
    SourceError,
    open_source,
)


def test_parquet_specs(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": [1]}), tmp_path / "a.parquet")
    for spec in (f"parquet:{tmp_path}/*.parquet", f"{tmp_path}/a.parquet", str(tmp_path)):
        source = open_source(spec, time_column="ts")
        assert isinstance(source, ParquetSource)
        assert source.time_column == "ts"
        assert next(source.iter_batches(columns=["id"])).num_rows == 1


def test_duckdb_specs(tmp_path: Path) -> None:
    for spec in (
        f"duckdb:{tmp_path}/db.duckdb",
        f"duckdb://{tmp_path}/db.duckdb",
        f"{tmp_path}/db.duckdb",
    ):
        source = open_source(spec, table="events")
        assert isinstance(source, DuckDBSource)
        assert source.url.target == f"{tmp_path}/db.duckdb"
    assert open_source(f"duckdb:{tmp_path}/db.duckdb", sql="SELECT 1").sql == "SELECT 1"


def test_postgres_spec_and_mapping() -> None:
    source = open_source("postgresql://u:pw@localhost:5432/db?schema=s", table="events")
    assert isinstance(source, PostgresSource)
    assert "pw" not in source.describe()
    from_yaml = open_source(
        {"uri": "postgresql://u@localhost/db", "sql": "SELECT 1", "time_column": "ts"}
    )
    assert isinstance(from_yaml, PostgresSource)
    assert from_yaml.time_column == "ts"


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("duckdb:/x.duckdb", {}, "exactly one of table= or sql="),
        ("postgresql://u:pw@h/db", {"table": "a", "sql": "b"}, "exactly one"),
        ("parquet:/x/*.parquet", {"table": "t"}, "takes no table"),
        ("mysql://u:pw@h/db", {}, "cannot tell"),
        ({"uri": "a.parquet", "colour": "red"}, {}, "unknown source option"),
        ({"table": "t"}, {}, "exactly one of uri"),
    ],
)
def test_bad_specs(spec, kwargs, message: str) -> None:
    with pytest.raises(SourceError, match=message) as caught:
        open_source(spec, **kwargs)
    assert "pw@" not in str(caught.value)
