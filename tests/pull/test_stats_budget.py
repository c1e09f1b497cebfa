"""Stats pulls sharing one rate budget stay within MoEngage's 100 requests a minute together,
with a margin that keeps any sliding 60 s window at 100 or fewer.

Time is virtual: the emulator and both budgets read one clock that moves only when a budget
sleeps. The pulls therefore always ask faster than the budget allows, however busy the
machine is, and the emulator's per-window counters are the proof that the budget held them
back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import (
    CAMPAIGN_STATS,
    BucketRequest,
    BudgetStore,
    MemoryBudgetStore,
    RateBudget,
    SQLiteBudgetStore,
    Window,
    namespace_for,
)
from moengage_pipelines.api.ratebudget.windows import STATS_WINDOW_MARGIN_SECONDS
from moengage_pipelines.emulator import Emulator, EmulatorServer, EmulatorSettings, serve
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.pytest_plugin import settings_for
from moengage_pipelines.limits import STATS_REQUESTS_PER_MINUTE
from moengage_pipelines.pull.campaigns.load import pull_campaigns
from moengage_pipelines.pull.stats.load import pull_stats
from moengage_pipelines.pull.stats.request import StatsOptions
from moengage_pipelines.warehouse import Warehouse

# The day after the pulled days, on a whole minute, so MoEngage's minute windows start with it.
START = datetime(2025, 3, 7, 12, tzinfo=UTC).timestamp()
DAYS = [date(2025, 3, day) for day in (3, 4, 5, 6)]
# 3 attribution types x 2 metric types: 6 requests per 10 campaigns and day.
OPTIONS = StatsOptions(
    attribution_types=("CLICK_THROUGH", "VIEW_THROUGH", "IN_SESSION"),
    metric_types=("TOTAL", "UNIQUE"),
)
# Longest a sleeper waits, in real seconds, for the requests on their way to be answered.
ANSWER_TIMEOUT = 60.0


class VirtualTime:
    """A clock shared by the emulator and the budgets that moves only when a budget sleeps.

    A sleeper first waits (in real time) until every admitted request has been answered, so
    time never jumps while a request is on its way: as with MoEngage, where a request takes
    milliseconds and a budget wait most of a minute.
    """

    def __init__(self, start: float) -> None:
        self._now = start
        self._unanswered = 0
        self._changed = threading.Condition()

    def __call__(self) -> float:
        with self._changed:
            return self._now

    def sleep(self, seconds: float) -> None:
        with self._changed:
            answered = self._changed.wait_for(lambda: self._unanswered == 0, ANSWER_TIMEOUT)
            assert answered, f"{self._unanswered} request(s) still unanswered"
            self._now += seconds

    def admitted(self) -> None:
        with self._changed:
            self._unanswered += 1

    def answered(self) -> None:
        with self._changed:
            self._unanswered -= 1
            self._changed.notify_all()


class CountsUnanswered:
    """A budget store that tells the virtual clock which admitted requests are unanswered."""

    def __init__(self, store: BudgetStore, time: VirtualTime) -> None:
        self._store = store
        self._time = time

    def try_acquire(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> float:
        wait = self._store.try_acquire(clock, requests, token)
        if wait <= 0:
            self._time.admitted()
        return wait

    def settle(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> None:
        try:
            self._store.settle(clock, requests, token)
        finally:
            self._time.answered()

    def pause(self, keys: Iterable[str], until: float) -> None:
        self._store.pause(keys, until)

    def used(self, key: str, now: float, seconds: float) -> int:
        return self._store.used(key, now, seconds)

    def close(self) -> None:
        self._store.close()


def test_two_stats_pulls_share_the_budget_and_never_see_a_429(tmp_path) -> None:
    path = tmp_path / "rate-budget.sqlite"  # what two processes would share
    time = VirtualTime(START)

    with Emulator(EmulatorSettings(clock=time)) as emulator, serve(emulator) as url:
        settings = settings_for(EmulatorServer(url, emulator))

        def pull(index: int):
            budget = RateBudget(
                CountsUnanswered(SQLiteBudgetStore(path), time),
                namespace=namespace_for(settings),
                clock=time,
                sleep=time.sleep,
            )
            with (
                MoEngageClient(settings, budget=budget) as client,
                Warehouse.open(f"duckdb:///{tmp_path / f'results-{index}.duckdb'}") as warehouse,
            ):
                pull_campaigns(client, warehouse)
                report = pull_stats(client, warehouse, DAYS, options=OPTIONS)
            budget.close()
            return report, client.stats

        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(pull, range(2)))
        usage = emulator.inspect.rate_usage()
        answered = emulator.inspect.counters()["campaign_stats"]

    requests = sum(report.requests for report, _ in results)
    # 25 campaigns: 3 requests per combination and day, in each of the two pulls.
    assert requests == 2 * 3 * len(OPTIONS.combinations) * len(DAYS)
    assert requests > STATS_REQUESTS_PER_MINUTE  # more than one window's worth
    assert all(len(report.days) == len(DAYS) and report.rows > 0 for report, _ in results)
    assert sum(stats.http_429 for _, stats in results) == 0
    assert answered["requests"] == answered["2xx"] == requests
    # The budget made the pulls wait: without it they would have gone faster than allowed.
    assert sum(stats.budget_wait_seconds for _, stats in results) > 0
    # Time moved only while the budget held requests back, and by at least a minute: the
    # requests beyond the first 100 had to wait for the first minute's to leave the window.
    assert time() - START >= 60
    [pool_usage] = [u for u in usage.values() if u["pool"] == "campaign_stats"]
    windows = pool_usage["per_window"].values()
    assert pool_usage["limit"] == STATS_REQUESTS_PER_MINUTE
    assert pool_usage["max_requested"] <= STATS_REQUESTS_PER_MINUTE
    assert pool_usage["refused_requests"] == 0
    assert sum(window["admitted"] for window in windows) == requests
    assert len(windows) >= 2


def _admission_times(limits=None, requests: int = 350) -> list[float]:
    """When each of ``requests`` stats requests, asked back to back, is admitted."""
    clock = FakeClock(START)
    options = {} if limits is None else {"limits": limits}
    budget = RateBudget(MemoryBudgetStore(), clock=clock, sleep=clock.sleep, slack=0.0, **options)
    times = []
    for _ in range(requests):
        budget.acquire({CAMPAIGN_STATS: 1})
        times.append(clock())
    return times


def _busiest(times: list[float], seconds: float) -> int:
    """The most requests in any window of ``seconds`` (each window starts at a request)."""
    return max(sum(1 for other in times if start <= other < start + seconds) for start in times)


def test_the_stats_budget_keeps_a_margin_against_sliding_windows() -> None:
    times = _admission_times()
    margin = STATS_WINDOW_MARGIN_SECONDS
    assert margin > 0
    # Every sliding 60 s window holds at most 100, even stretched by the margin: a request
    # counted up to `margin` seconds late by MoEngage still never makes a 101st.
    assert _busiest(times, 60.0) <= STATS_REQUESTS_PER_MINUTE
    assert _busiest(times, 60.0 + margin) <= STATS_REQUESTS_PER_MINUTE
    assert all(
        times[i + STATS_REQUESTS_PER_MINUTE] - times[i] >= 60.0 + margin
        for i in range(len(times) - STATS_REQUESTS_PER_MINUTE)
    )
    # The margin is small: 350 requests still take less than 4 windows of 60 + margin s.
    assert times[-1] - times[0] < 3 * (60.0 + margin) + 1
    # Without the margin, request 101 goes exactly 60 s after request 1: one request counted
    # a moment late fills a sliding window past 100. The check above would see it.
    exact = _admission_times({CAMPAIGN_STATS: (Window(STATS_REQUESTS_PER_MINUTE, 60.0),)})
    assert _busiest(exact, 60.0 + margin) > STATS_REQUESTS_PER_MINUTE
