"""Stats pulls sharing one rate budget stay within MoEngage's 100 requests a minute together.

The emulator runs 30 times faster than real time (a minute lasts 2 s) and the budget is scaled
to match; the emulator's per-window counters are the proof.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import budget_for_workspace
from moengage_pipelines.emulator import Emulator, EmulatorServer, EmulatorSettings, serve
from moengage_pipelines.limits import STATS_REQUESTS_PER_MINUTE
from moengage_pipelines.pull.catalogue_pull import pull_catalogue
from moengage_pipelines.pull.stats import StatsOptions
from moengage_pipelines.pull.stats_pull import pull_stats
from moengage_pipelines.warehouse import Warehouse
from tests.pull.emulators import settings_for

TIME_SCALE = 30.0
DAYS = [date(2025, 3, day) for day in (3, 4, 5, 6)]
# 3 attribution types x 2 metric types: 6 requests per 10 campaigns and day.
OPTIONS = StatsOptions(
    attribution_types=("CLICK_THROUGH", "VIEW_THROUGH", "IN_SESSION"),
    metric_types=("TOTAL", "UNIQUE"),
)


def test_two_stats_pulls_share_the_budget_and_never_see_a_429(tmp_path) -> None:
    store = f"sqlite:///{tmp_path / 'rate-budget.sqlite'}"  # what two processes would share

    with (
        Emulator(EmulatorSettings(time_scale=TIME_SCALE)) as emulator,
        serve(emulator) as url,
    ):
        settings = settings_for(EmulatorServer(url, emulator))

        def pull(index: int):
            budget = budget_for_workspace(settings, store=store, time_scale=TIME_SCALE)
            with (
                MoEngageClient(settings, budget=budget) as client,
                Warehouse.open(f"duckdb:///{tmp_path / f'results-{index}.duckdb'}") as warehouse,
            ):
                pull_catalogue(client, warehouse)
                report = pull_stats(client, warehouse, DAYS, options=OPTIONS)
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
    [pool_usage] = [u for u in usage.values() if u["pool"] == "campaign_stats"]
    windows = pool_usage["per_window"].values()
    assert pool_usage["limit"] == STATS_REQUESTS_PER_MINUTE
    assert pool_usage["max_requested"] <= STATS_REQUESTS_PER_MINUTE
    assert pool_usage["refused_requests"] == 0
    assert sum(window["admitted"] for window in windows) == requests
    assert len(windows) >= 2
