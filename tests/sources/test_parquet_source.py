from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.sources import ParquetSource, SourceError, SourceNotFoundError, TimeWindow
from tests.sources.factories import read_all


def write(path: Path, table: pa.Table, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, **kwargs)
    return path


def test_folder_glob_and_list(tmp_path: Path) -> None:
    a = write(tmp_path / "data" / "a.parquet", pa.table({"id": [1, 2]}))
    b = write(tmp_path / "data" / "nested" / "b.parquet", pa.table({"id": [3]}))
    (tmp_path / "data" / "_SUCCESS").write_text("")  # marker files are ignored
    assert sorted(read_all(ParquetSource(tmp_path / "data")).column("id").to_pylist()) == [1, 2, 3]
    by_glob = ParquetSource(str(tmp_path / "data" / "**" / "*.parquet"))
    assert sorted(read_all(by_glob).column("id").to_pylist()) == [1, 2, 3]
    only_top = ParquetSource(str(tmp_path / "data" / "*.parquet"))
    assert read_all(only_top).column("id").to_pylist() == [1, 2]
    assert sorted(read_all(ParquetSource([a, b])).column("id").to_pylist()) == [1, 2, 3]


def test_schemas_are_unified_across_files(tmp_path: Path) -> None:
    write(tmp_path / "d" / "1.parquet", pa.table({"id": pa.array([1], pa.int32()), "a": ["x"]}))
    write(
        tmp_path / "d" / "2.parquet",
        pa.table({"id": pa.array([2**40], pa.int64()), "b": [True]}),
    )
    source = ParquetSource(tmp_path / "d")
    assert source.schema() == pa.schema([("id", pa.int64()), ("a", pa.string()), ("b", pa.bool_())])
    rows = sorted(read_all(source).to_pylist(), key=lambda r: r["id"])
    assert rows == [{"id": 1, "a": "x", "b": None}, {"id": 2**40, "a": None, "b": True}]


def test_incompatible_schemas_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "d" / "1.parquet", pa.table({"id": [1]}))
    write(tmp_path / "d" / "2.parquet", pa.table({"id": [[1, 2]]}))
    with pytest.raises(SourceError, match="incompatible schemas"):
        read_all(ParquetSource(tmp_path / "d"))


def test_hive_partition_folders_become_columns(tmp_path: Path) -> None:
    write(tmp_path / "ev" / "day=2025-01-01" / "part.parquet", pa.table({"id": [1]}))
    write(tmp_path / "ev" / "day=2025-01-02" / "part.parquet", pa.table({"id": [2]}))
    rows = sorted(read_all(ParquetSource(tmp_path / "ev")).to_pylist(), key=lambda r: r["id"])
    assert [str(r["day"]) for r in rows] == ["2025-01-01", "2025-01-02"]


def test_batches_never_exceed_batch_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path / "big.parquet", pa.table({"id": pa.array(range(50_000))}), row_group_size=20_000
    )
    batches = list(ParquetSource(path).iter_batches(batch_rows=3_000))
    assert max(b.num_rows for b in batches) <= 3_000
    assert sum(b.num_rows for b in batches) == 50_000
    assert len(batches) >= 50_000 // 3_000


def test_projection_reads_only_requested_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "w.parquet", pa.table({"a": [1], "b": ["x"], "c": [2.0]}))
    batch = next(ParquetSource(path).iter_batches(columns=["c", "a"]))
    assert batch.schema.names == ["c", "a"]


def test_window_filter_prunes_row_groups(tmp_path: Path) -> None:
    start = dt.datetime(2025, 1, 1)
    times = [start + dt.timedelta(minutes=i) for i in range(10_000)]
    path = write(
        tmp_path / "t.parquet",
        pa.table({"id": range(10_000), "ts": pa.array(times, pa.timestamp("ms"))}),
        row_group_size=1_000,
    )
    window = TimeWindow(start + dt.timedelta(minutes=2_500), start + dt.timedelta(minutes=2_600))
    table = read_all(ParquetSource(path, time_column="ts"), window=window)
    assert table.column("id").to_pylist() == list(range(2_500, 2_600))


@pytest.mark.parametrize("spec", ["missing.parquet", "nothing/*.parquet", "nodir/"])
def test_missing_paths(tmp_path: Path, spec: str) -> None:
    with pytest.raises(SourceNotFoundError):
        read_all(ParquetSource(str(tmp_path / spec)))


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceNotFoundError, match="no Parquet files"):
        read_all(ParquetSource(tmp_path / "empty"))


def test_describe(tmp_path: Path) -> None:
    source = ParquetSource(tmp_path / "x.parquet", time_column="ts")
    assert source.describe() == f"parquet {tmp_path / 'x.parquet'}, time column ts"


def test_files_added_later_are_read(tmp_path: Path) -> None:
    write(tmp_path / "d" / "1.parquet", pa.table({"id": [1]}))
    source = ParquetSource(tmp_path / "d")
    assert read_all(source).num_rows == 1
    write(tmp_path / "d" / "2.parquet", pa.table({"id": [2]}))
    assert read_all(source).num_rows == 2
