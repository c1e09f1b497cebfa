"""Hive partition keys holding times: typed, and pruned by a window without opening files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.sources import ParquetSource, SourceError, TimeWindow

HOURS = [dt.datetime(2026, 1, 1, hour) for hour in (0, 6, 12, 18)]


def write_hours(folder: Path) -> None:
    for hour in HOURS:
        part = folder / f"hour={hour.isoformat(sep=' ')}"
        part.mkdir(parents=True)
        pq.write_table(pa.table({"id": [f"{hour.hour}-a", f"{hour.hour}-b"]}), part / "p.parquet")


def test_a_timestamp_key_is_typed_and_a_window_keeps_its_folders(tmp_path):
    write_hours(tmp_path)
    source = ParquetSource(tmp_path, time_column="hour")

    window = TimeWindow(dt.datetime(2026, 1, 1, 6), dt.datetime(2026, 1, 1, 13))
    batches = list(source.iter_batches(window=window))

    rows = pa.Table.from_batches(batches)
    assert rows.schema.field("hour").type == pa.timestamp("us")
    assert rows.column("id").to_pylist() == ["6-a", "6-b", "12-a", "12-b"]


def test_the_folders_outside_a_window_are_never_opened(tmp_path):
    write_hours(tmp_path)
    # An unreadable file outside the window: reading it would fail.
    (tmp_path / "hour=2026-01-01 00:00:00" / "p.parquet").write_bytes(b"not parquet")
    source = ParquetSource(tmp_path, time_column="hour")

    window = TimeWindow(dt.datetime(2026, 1, 1, 12), dt.datetime(2026, 1, 2))
    rows = pa.Table.from_batches(list(source.iter_batches(window=window)))

    assert rows.column("id").to_pylist() == ["12-a", "12-b", "18-a", "18-b"]
    with pytest.raises(SourceError, match="cannot read"):
        list(source.iter_batches())


def test_a_key_that_is_not_a_time_stays_text_and_a_window_on_it_is_refused(tmp_path):
    for region in ("eu", "us"):
        (tmp_path / f"region={region}").mkdir()
        pq.write_table(pa.table({"id": [region]}), tmp_path / f"region={region}" / "p.parquet")
    source = ParquetSource(tmp_path, time_column="region")

    assert source.schema().field("region").type == pa.string()
    with pytest.raises(SourceError, match=r"time column 'region' .* has type string"):
        list(source.iter_batches(window=TimeWindow.for_day("2026-01-01")))
