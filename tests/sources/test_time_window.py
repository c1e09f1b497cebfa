from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from moengage_pipelines.sources import TimeWindow, as_utc

UTC = dt.UTC


def test_for_day_is_a_utc_day() -> None:
    window = TimeWindow.for_day(dt.date(2025, 1, 2))
    assert window.start == dt.datetime(2025, 1, 2, tzinfo=UTC)
    assert window.end == dt.datetime(2025, 1, 3, tzinfo=UTC)
    assert TimeWindow.for_day("2025-01-02") == window
    assert str(window) == "[2025-01-02T00:00:00+00:00, 2025-01-03T00:00:00+00:00)"


def test_naive_bounds_are_utc_and_aware_ones_are_converted() -> None:
    naive = TimeWindow(dt.datetime(2025, 1, 2), dt.datetime(2025, 1, 3))
    kolkata = ZoneInfo("Asia/Kolkata")
    aware = TimeWindow(
        dt.datetime(2025, 1, 2, 5, 30, tzinfo=kolkata),
        dt.datetime(2025, 1, 3, 5, 30, tzinfo=kolkata),
    )
    assert naive == aware == TimeWindow.for_day("2025-01-02")
    assert aware.start.tzinfo == UTC
    assert naive.naive_start == dt.datetime(2025, 1, 2)


def test_start_inclusive_end_exclusive() -> None:
    window = TimeWindow.for_day("2025-01-02")
    assert window.contains(dt.datetime(2025, 1, 2))
    assert window.contains(dt.datetime(2025, 1, 2, 23, 59, 59, 999999))
    assert not window.contains(dt.datetime(2025, 1, 3))
    assert not window.contains(dt.datetime(2025, 1, 1, 23, 59, 59, 999999))


def test_empty_or_reversed_window_is_rejected() -> None:
    with pytest.raises(ValueError, match="not after"):
        TimeWindow("2025-01-02", "2025-01-02")
    with pytest.raises(ValueError, match="not after"):
        TimeWindow("2025-01-03", "2025-01-02")


def test_as_utc_parses_iso_strings() -> None:
    assert as_utc("2025-01-02T03:04:05Z") == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert as_utc("2025-01-02T08:34:05+05:30") == dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert as_utc(dt.date(2025, 1, 2)) == dt.datetime(2025, 1, 2, tzinfo=UTC)
