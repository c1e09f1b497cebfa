"""``ArrowTableSource``: rows in memory read through the ``Source`` protocol."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from moengage_pipelines.sources import ArrowTableSource, Source, SourceError, TimeWindow
from moengage_pipelines.warehouse import ColumnNotFoundError

START = dt.datetime(2025, 5, 1)


def _table() -> pa.Table:
    # Row i happens at START + 7h * i: ids 0..9 span three UTC days.
    return pa.table({
        "id": list(range(10)),
        "at": pa.array([START + dt.timedelta(hours=7 * i) for i in range(10)], pa.timestamp("us")),
        "day": pa.array([(START + dt.timedelta(hours=7 * i)).date() for i in range(10)]),
    })


def test_a_window_keeps_the_rows_inside_it_in_table_order() -> None:
    source = ArrowTableSource(_table(), time_column="at", name="rows")
    assert isinstance(source, Source)
    batches = list(source.iter_batches(TimeWindow.for_day("2025-05-02"), batch_rows=2,
                                       columns=["id"]))
    expected = [i for i in range(10) if (START + dt.timedelta(hours=7 * i)).day == 2]
    assert [row["id"] for b in batches for row in b.to_pylist()] == expected
    assert all(b.num_rows <= 2 for b in batches) and batches[0].schema.names == ["id"]


def test_a_date_time_column_filters_by_its_midnight() -> None:
    source = ArrowTableSource(_table(), time_column="day", name="rows")
    rows = pa.Table.from_batches(list(source.iter_batches(TimeWindow.for_day("2025-05-01"))))
    assert set(rows.column("day").to_pylist()) == {dt.date(2025, 5, 1)}


def test_bad_columns_and_windows_name_the_problem() -> None:
    source = ArrowTableSource(_table(), name="upstream rows")
    with pytest.raises(ColumnNotFoundError, match="nope"):
        source.schema(["id", "nope"])
    with pytest.raises(SourceError, match=r"upstream rows .*has no time_column"):
        list(source.iter_batches(TimeWindow.for_day("2025-05-01")))
    with pytest.raises(SourceError, match="batch_rows must be at least 1"):
        list(source.iter_batches(batch_rows=0))
    typed = ArrowTableSource(_table(), time_column="id", name="rows")
    with pytest.raises(SourceError, match="a time window needs a timestamp or date column"):
        list(typed.iter_batches(TimeWindow.for_day("2025-05-01")))
