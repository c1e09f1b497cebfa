"""FakeClock: one settable clock for emulators, rate budgets and retry policies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from moengage_pipelines.api.ratebudget import MemoryBudgetStore, RateBudget, Window
from moengage_pipelines.emulator.clock import DEFAULT_START, FakeClock


def test_it_starts_where_told_in_epoch_seconds_or_as_a_datetime():
    assert FakeClock()() == DEFAULT_START
    assert FakeClock(1_000)() == 1_000.0
    moment = datetime(2025, 3, 6, 12, tzinfo=UTC)
    clock = FakeClock(moment)
    assert clock() == moment.timestamp()
    assert clock.moment == moment


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2025, 3, 6, 12))


def test_sleep_is_recorded_and_moves_time_advance_only_moves_it():
    clock = FakeClock(100)
    clock.sleep(2.5)
    clock.advance(10)
    clock.sleep(1)
    assert clock() == 113.5
    assert clock.sleeps == [2.5, 1]


def test_setting_now_or_the_moment_moves_the_clock():
    clock = FakeClock()
    clock.now = 60.0
    assert clock() == 60.0
    clock.moment = datetime(2025, 3, 13, 12, tzinfo=UTC)
    assert clock() == datetime(2025, 3, 13, 12, tzinfo=UTC).timestamp()
    assert repr(clock) == "FakeClock(2025-03-13T12:00:00+00:00)"


def test_a_rate_budget_waits_on_it_without_blocking():
    clock = FakeClock(0)
    budget = RateBudget(
        MemoryBudgetStore(),
        limits={"pool": (Window(2, 60.0),)},
        slack=0.0,
        clock=clock,
        sleep=clock.sleep,
    )
    for _ in range(3):
        budget.acquire({"pool": 1})
    # The third unit waited for the first minute's window to end, on the fake clock.
    assert clock.sleeps and clock() >= 60.0
