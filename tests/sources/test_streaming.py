"""Reading never materializes the whole input: memory is bounded by a few batches."""

from __future__ import annotations

import itertools
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.sources import DuckDBSource, ParquetSource, PostgresSource
from moengage_pipelines.warehouse import Warehouse

ROWS = 2_000_000
BATCH_ROWS = 8_192


def generated_table(rows: int) -> pa.Table:
    ids = pa.array(range(rows), pa.int64())
    names = pc.binary_join_element_wise("customer-", pc.cast(ids, pa.string()), "")
    return pa.table({"id": ids, "name": names, "value": pc.cast(ids, pa.float64())})


def test_parquet_streams_two_million_rows_in_bounded_memory(tmp_path: Path) -> None:
    table = generated_table(ROWS)
    data_bytes = table.nbytes
    pq.write_table(table, tmp_path / "big.parquet", row_group_size=100_000)
    del table
    baseline = pa.total_allocated_bytes()
    peak = 0
    batches = rows = total = 0
    largest = 0
    for batch in ParquetSource(tmp_path / "big.parquet").iter_batches(batch_rows=BATCH_ROWS):
        peak = max(peak, pa.total_allocated_bytes() - baseline)
        batches += 1
        rows += batch.num_rows
        largest = max(largest, batch.num_rows)
        total += pc.sum(batch.column("id")).as_py()
    assert rows == ROWS
    assert total == ROWS * (ROWS - 1) // 2
    assert largest <= BATCH_ROWS
    assert batches >= ROWS // BATCH_ROWS
    # Arrow memory in use while streaming stays a fraction of the data (~70 MB in memory);
    # materializing the file would need all of it.
    assert peak < data_bytes * 0.4, (peak, data_bytes)


def test_duckdb_streams_two_million_rows_in_batches(tmp_path: Path) -> None:
    path = tmp_path / "big.duckdb"
    with Warehouse.open(f"duckdb://{path}") as warehouse:
        warehouse.execute(
            "CREATE TABLE big AS SELECT i AS id, 'customer-' || i AS name, i::DOUBLE AS value "
            f"FROM range({ROWS}) AS t(i)"
        )
    sizes = [
        b.num_rows for b in DuckDBSource(path, table="big").iter_batches(batch_rows=BATCH_ROWS)
    ]
    assert sum(sizes) == ROWS
    assert max(sizes) <= BATCH_ROWS
    assert len(sizes) >= ROWS // BATCH_ROWS


@pytest.mark.timeout(60)
def test_duckdb_first_batches_of_an_endless_query(tmp_path: Path) -> None:
    # Ten billion rows: only a stream can hand out its first batches.
    path = tmp_path / "db.duckdb"
    with Warehouse.open(f"duckdb://{path}"):
        pass
    source = DuckDBSource(path, sql="SELECT * FROM range(10000000000) AS t(i)")
    stream = source.iter_batches(batch_rows=1_000)
    first = list(itertools.islice(stream, 3))
    stream.close()
    assert [b.num_rows for b in first] == [1_000] * 3


@pytest.mark.postgres
@pytest.mark.timeout(60)
def test_postgres_first_batches_of_an_endless_query(pg_url: str) -> None:
    # An endless recursive query: only a server-side cursor can return its first rows.
    endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n"
    stream = PostgresSource(pg_url, sql=endless).iter_batches(batch_rows=1_000)
    first = list(itertools.islice(stream, 3))
    stream.close()
    assert [b.num_rows for b in first] == [1_000] * 3
    assert pa.Table.from_batches(first).column("i").to_pylist() == list(range(1, 3_001))


@pytest.mark.postgres
def test_postgres_streams_in_batches(pg_url: str) -> None:
    with Warehouse.open(pg_url) as warehouse:
        warehouse.replace_rows("big", generated_table(200_000))
    sizes = [b.num_rows for b in PostgresSource(pg_url, table="big").iter_batches(batch_rows=5_000)]
    assert sizes == [5_000] * 40
