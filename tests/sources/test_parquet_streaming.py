"""ParquetSource reads only when asked: bounded memory for slow consumers, windows per batch."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.sources import ParquetSource, TimeWindow
from tests.sources.factories import read_all

START = dt.datetime(2025, 1, 1)


def events(rows: int, *, shuffled: bool = False, unit: str = "us") -> pa.Table:
    """``id`` 0..rows-1, ``ts`` = START + id seconds (in a random order when shuffled)."""
    ids = np.arange(rows, dtype=np.int64)
    seconds = np.random.default_rng(7).permutation(rows) if shuffled else ids
    times = np.datetime64(START, "us") + seconds.astype("timedelta64[s]")
    names = pc.binary_join_element_wise("customer-", pc.cast(pa.array(ids), pa.string()), "")
    return pa.table(
        {"id": ids, "name": names, "ts": pa.array(times).cast(pa.timestamp(unit))}
    )


def window_seconds(first: int, last: int) -> TimeWindow:
    """Rows whose ``ts`` is START + first .. START + last - 1 seconds."""
    return TimeWindow(START + dt.timedelta(seconds=first), START + dt.timedelta(seconds=last))


def test_a_slow_consumer_does_not_make_arrow_memory_grow(tmp_path: Path) -> None:
    rows = 2_000_000
    table = events(rows)
    data_bytes = table.nbytes
    pq.write_table(table, tmp_path / "big.parquet", row_group_size=100_000)
    del table
    baseline = pa.total_allocated_bytes()
    peak = seen = 0
    stream = ParquetSource(tmp_path / "big.parquet").iter_batches(batch_rows=8_192)
    for index, batch in enumerate(stream):
        if index < 3:
            # A rate-limited push is this slow; a reader working ahead in the background
            # would decode the whole file meanwhile.
            time.sleep(0.3)
        peak = max(peak, pa.total_allocated_bytes() - baseline)
        seen += batch.num_rows
    assert seen == rows
    # About one row group's column chunks and one batch are held: a small fraction of the
    # ~50 MB of data, however long the consumer takes.
    assert peak < data_bytes * 0.15, (peak, data_bytes)


def test_window_boundaries_inside_and_between_row_groups(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(events(10_000, unit="ns"), path, row_group_size=1_000)
    source = ParquetSource(path, time_column="ts")
    # Start exactly on a row group's first row, end inside another row group.
    table = read_all(source, window=window_seconds(3_000, 5_432), batch_rows=700)
    assert table.column("id").to_pylist() == list(range(3_000, 5_432))
    # Start inside a row group, end exactly where a row group starts (that row is excluded).
    table = read_all(source, window=window_seconds(2_999, 4_000), batch_rows=700)
    assert table.column("id").to_pylist() == list(range(2_999, 4_000))
    # One microsecond after a row's instant excludes it; the row at the end stays out.
    later = TimeWindow(
        START + dt.timedelta(seconds=10, microseconds=1), START + dt.timedelta(seconds=12)
    )
    assert read_all(source, window=later).column("id").to_pylist() == [11]


def test_only_row_groups_a_window_can_touch_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(events(10_000), path, row_group_size=1_000)
    requested: list[list[int] | None] = []
    real_iter_batches = pq.ParquetFile.iter_batches

    def recording(self, *args, **kwargs):
        requested.append(kwargs.get("row_groups"))
        return real_iter_batches(self, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", recording)
    table = read_all(ParquetSource(path, time_column="ts"), window=window_seconds(2_500, 3_600))
    assert table.column("id").to_pylist() == list(range(2_500, 3_600))
    assert requested == [[2, 3]]


def test_a_selective_window_still_yields_full_batches_in_order(tmp_path: Path) -> None:
    path = tmp_path / "shuffled.parquet"
    pq.write_table(events(50_000, shuffled=True), path, row_group_size=5_000)
    window = window_seconds(10_000, 15_000)  # a tenth of the rows, spread over every batch
    batches = list(ParquetSource(path, time_column="ts").iter_batches(
        window=window, batch_rows=1_000
    ))
    sizes = [batch.num_rows for batch in batches]
    assert sum(sizes) == 5_000
    assert max(sizes) <= 1_000
    # Without merging, each 1,000-row batch would keep about 100 rows.
    assert min(sizes[:-1]) >= 500
    got = pa.Table.from_batches(batches)
    times = got.column("ts").to_pylist()
    assert all(window.contains(moment) for moment in times)
    expected = events(50_000, shuffled=True).filter(
        (pc.field("ts") >= pa.scalar(window.naive_start))
        & (pc.field("ts") < pa.scalar(window.naive_end))
    )
    assert got.column("id").to_pylist() == expected.column("id").to_pylist()


def test_window_over_files_with_partitions_and_a_missing_time_column(tmp_path: Path) -> None:
    first = events(100).append_column("country", pa.array(["in"] * 100))
    for day, table in (("2025-01-01", first), ("2025-01-02", events(50).drop_columns(["ts"]))):
        folder = tmp_path / "ev" / f"day={day}"
        folder.mkdir(parents=True)
        pq.write_table(table, folder / "part.parquet")
    source = ParquetSource(tmp_path / "ev", time_column="ts")
    table = read_all(source, window=window_seconds(10, 20), columns=["id", "day", "country"])
    # Rows of the file without a time column have a null time: never inside a window.
    assert table.column_names == ["id", "day", "country"]
    assert table.to_pylist() == [
        {"id": i, "day": "2025-01-01", "country": "in"} for i in range(10, 20)
    ]
    everything = read_all(source, columns=["id", "country", "day"])
    assert everything.num_rows == 150
    assert everything.column("country").null_count == 50
