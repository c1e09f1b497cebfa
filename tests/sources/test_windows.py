"""Time-window filtering at the exact boundaries, on every kind of source."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from moengage_pipelines.sources import SourceError, TimeWindow
from moengage_pipelines.warehouse import ColumnNotFoundError
from tests.sources.factories import SourceFactory, read_all

UTC = dt.UTC
DAY = TimeWindow.for_day("2025-01-02")

# id -> instant; ids 1..3 are inside 2025-01-02 (UTC), the others are not.
INSTANTS = {
    0: dt.datetime(2025, 1, 1, 23, 59, 59, 999999),
    1: dt.datetime(2025, 1, 2, 0, 0, 0),
    2: dt.datetime(2025, 1, 2, 12, 0, 0),
    3: dt.datetime(2025, 1, 2, 23, 59, 59, 999999),
    4: dt.datetime(2025, 1, 3, 0, 0, 0),
    5: None,
}


def ids(table: pa.Table) -> list[int]:
    return sorted(table.column("id").to_pylist()) if table.num_rows else []


def test_naive_timestamps_are_utc(make_source: SourceFactory) -> None:
    data = pa.table(
        {"id": list(INSTANTS), "ts": pa.array(list(INSTANTS.values()), pa.timestamp("us"))}
    )
    source = make_source(data, time_column="ts")
    assert ids(read_all(source, window=DAY)) == [1, 2, 3]
    # The same window given in another zone selects the same rows.
    kolkata = ZoneInfo("Asia/Kolkata")
    shifted = TimeWindow(
        dt.datetime(2025, 1, 2, 5, 30, tzinfo=kolkata),
        dt.datetime(2025, 1, 3, 5, 30, tzinfo=kolkata),
    )
    assert ids(read_all(source, window=shifted)) == [1, 2, 3]
    assert ids(read_all(source)) == [0, 1, 2, 3, 4, 5]


def test_aware_timestamps_in_another_zone(make_source: SourceFactory) -> None:
    aware = [None if v is None else v.replace(tzinfo=UTC) for v in INSTANTS.values()]
    data = pa.table(
        {"id": list(INSTANTS), "ts": pa.array(aware, pa.timestamp("us", tz="Asia/Kolkata"))}
    )
    source = make_source(data, time_column="ts")
    assert ids(read_all(source, window=DAY)) == [1, 2, 3]
    # A window one microsecond later drops the row at the start and keeps the one at the end.
    later = TimeWindow(
        DAY.start + dt.timedelta(microseconds=1), DAY.end + dt.timedelta(microseconds=1)
    )
    assert ids(read_all(source, window=later)) == [2, 3, 4]


def test_date_columns_count_as_midnight_utc(make_source: SourceFactory) -> None:
    days = [dt.date(2025, 1, 1), dt.date(2025, 1, 2), dt.date(2025, 1, 3), None]
    data = pa.table({"id": [0, 1, 2, 3], "day": pa.array(days, pa.date32())})
    source = make_source(data, time_column="day")
    assert ids(read_all(source, window=DAY)) == [1]
    noon_to_noon = TimeWindow(dt.datetime(2025, 1, 2, 12), dt.datetime(2025, 1, 3, 12))
    assert ids(read_all(source, window=noon_to_noon)) == [2]


def test_window_with_projection_excluding_the_time_column(make_source: SourceFactory) -> None:
    data = pa.table(
        {
            "id": list(INSTANTS),
            "name": [f"n{i}" for i in INSTANTS],
            "ts": pa.array(list(INSTANTS.values()), pa.timestamp("us")),
        }
    )
    source = make_source(data, time_column="ts")
    table = read_all(source, window=DAY, columns=["name", "id"])
    assert table.column_names == ["name", "id"]
    assert ids(table) == [1, 2, 3]


def test_missing_time_column_is_named(make_source: SourceFactory) -> None:
    data = pa.table({"id": [1], "ts": pa.array([dt.datetime(2025, 1, 2)], pa.timestamp("us"))})
    source = make_source(data, time_column="event_time")
    with pytest.raises(ColumnNotFoundError, match=r"'event_time'.*columns are: id, ts"):
        read_all(source, window=DAY)
    # Without a window the time column is not needed.
    assert ids(read_all(source)) == [1]


def test_window_needs_a_time_column(make_source: SourceFactory) -> None:
    source = make_source(pa.table({"id": [1]}))
    with pytest.raises(SourceError, match="no time_column"):
        read_all(source, window=DAY)


def test_time_column_of_wrong_type(make_source: SourceFactory) -> None:
    source = make_source(pa.table({"id": [1], "ts": ["2025-01-02"]}), time_column="ts")
    with pytest.raises(SourceError, match=r"'ts'.*timestamp or date"):
        read_all(source, window=DAY)


def test_missing_projected_column_is_named(make_source: SourceFactory) -> None:
    source = make_source(pa.table({"id": [1], "name": ["a"]}))
    with pytest.raises(ColumnNotFoundError, match="'email'"):
        read_all(source, columns=["id", "email"])
