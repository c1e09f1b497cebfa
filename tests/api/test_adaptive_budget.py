"""The rate budget shrinks when MoEngage answers 429 within it, and grows back (AIMD)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.exceptions import RateBudgetTimeoutError
from moengage_pipelines.api.ratebudget import (
    Adaptation,
    BudgetStore,
    MemoryBudgetStore,
    RateBudget,
    Window,
)
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.settings import EmulatorSettings, RateLimit
from tests.api.support import settings, user_bodies

POOL = "pool"


def _budget(store: BudgetStore, clock: FakeClock, **options: Any) -> RateBudget:
    return RateBudget(
        store,
        namespace="ws",
        limits={POOL: [Window(100, 60.0)]},
        slack=0.0,
        clock=clock,
        sleep=clock.sleep,
        **options,
    )


def _fits(budget: RateBudget, units: int) -> int:
    """How many requests of ``units`` the budget admits now without waiting."""
    admitted = 0
    while True:
        try:
            budget.acquire({POOL: units}, max_wait=0)
        except RateBudgetTimeoutError:
            return admitted
        admitted += 1


def test_a_429_within_the_budget_shrinks_it_and_clean_windows_grow_it_back(
    store: BudgetStore,
) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    admitted_at = budget.now()
    assert _fits(budget, 10) == 10
    assert budget.throttled({POOL: 10}, admitted_at=admitted_at) == [POOL]
    assert budget.limit_factor(POOL) == pytest.approx(0.7)
    clock.advance(30.0)
    # Half a window later the old spending is still in the window: nothing fits.
    assert _fits(budget, 10) == 0
    clock.advance(30.5)
    # One clean window: 70 % + 5 % of 100 units.
    assert budget.limit_factor(POOL) == pytest.approx(0.75)
    assert _fits(budget, 10) == 7
    clock.advance(60.0 * 10)
    assert budget.limit_factor(POOL) == 1.0
    assert _fits(budget, 10) == 10


def test_429s_of_requests_admitted_before_a_shrink_do_not_shrink_it_again(
    store: BudgetStore,
) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    in_flight = [budget.now() for _ in range(4)]  # four requests admitted together
    clock.advance(0.2)
    shrunk = [budget.throttled({POOL: 10}, admitted_at=at) for at in in_flight]
    assert shrunk == [[POOL], [], [], []]
    assert budget.limit_factor(POOL) == pytest.approx(0.7)
    # A request admitted after the shrink and answered 429 too: the smaller limit is too big.
    later = budget.now()
    clock.advance(0.2)
    assert budget.throttled({POOL: 10}, admitted_at=later) == [POOL]
    assert budget.limit_factor(POOL) == pytest.approx(0.49)


def test_the_share_never_falls_below_the_floor_and_a_request_still_fits(
    store: BudgetStore,
) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    for _ in range(30):
        budget.throttled({POOL: 30}, admitted_at=budget.now())
        clock.advance(0.01)
    assert budget.limit_factor(POOL) == pytest.approx(0.05)
    clock.advance(61.0)
    # 5 % of 100 is 5 units, yet a request of 30 is admitted alone in its window.
    assert _fits(budget, 30) == 1


def test_windows_spent_paused_are_not_clean(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    budget.throttled({POOL: 10}, admitted_at=budget.now(), paused_for=30.0)
    clock.advance(61.0)
    assert budget.limit_factor(POOL) == pytest.approx(0.7)  # 31 s since the pause ended
    clock.advance(30.0)
    assert budget.limit_factor(POOL) == pytest.approx(0.75)


def test_adaptation_can_be_turned_off() -> None:
    clock = FakeClock()
    budget = _budget(MemoryBudgetStore(), clock, adaptation=None)
    assert budget.throttled({POOL: 10}, admitted_at=budget.now()) == []
    assert budget.limit_factor(POOL) == 1.0
    with pytest.raises(ValueError, match="decrease"):
        Adaptation(decrease=1.5)


def test_buckets_not_spent_or_not_limited_are_left_alone() -> None:
    clock = FakeClock()
    budget = _budget(MemoryBudgetStore(), clock)
    assert budget.throttled({POOL: 0, "other": 5}, admitted_at=budget.now()) == []
    assert budget.limit_factor(POOL) == 1.0


# -- against the emulator ---------------------------------------------------------------------

SCALE = 300.0  # a minute's window lasts 0.2 s
SERVER_USERS_PER_MINUTE = 100  # what MoEngage really allows: another app spends the rest
CLIENT_USERS_PER_MINUTE = 200  # what the budget was configured with
BODIES = 200
PER_BODY = 10


def _push(adaptation: Adaptation | None) -> tuple[Any, int, int]:
    """Push the bodies from 4 threads; return the client's counters, users and 429s served."""
    emulator_settings = EmulatorSettings(
        time_scale=SCALE,
        rate_limits={"transition_users": (RateLimit(SERVER_USERS_PER_MINUTE, 60),)},
    )
    with Emulator(emulator_settings) as emulator:
        # Some latency, so several requests are in flight when a window fills, as over a WAN.
        emulator.faults.add(FaultRule(endpoint="transition", kind="latency", seconds=0.02))
        budget = RateBudget(
            MemoryBudgetStore(),
            namespace="ws",
            limits={"transition_users": [Window.per_minute(CLIENT_USERS_PER_MINUTE)]},
            time_scale=SCALE,
            slack=0.0,
            adaptation=adaptation,
        )
        retry = RetryConfig(time_scale=SCALE)
        with MoEngageClient(
            settings(), transport=emulator.transport(), budget=budget, retry=retry
        ) as client:
            bodies = list(user_bodies(BODIES, PER_BODY))
            with ThreadPoolExecutor(max_workers=4) as pool:
                answers = list(
                    pool.map(
                        lambda body: client.post_transition(body.payload, users=PER_BODY, events=0),
                        bodies,
                    )
                )
            stats = client.stats
        assert all(answer["status"] == "success" for answer in answers)
        served = emulator.inspect.counters()["transition"].get("429", 0)
        return stats, len(emulator.inspect.users()), served


def test_a_budget_larger_than_moengage_s_shrinks_and_collects_far_fewer_429s() -> None:
    adaptive, users, served = _push(Adaptation())
    assert users == BODIES * PER_BODY  # every body ended accepted
    assert adaptive.failures == 0
    assert adaptive.http_429 == served > 0
    assert adaptive.budget_shrinks >= 1
    # The control: the same push with the configured limits kept whatever MoEngage answers.
    naive, naive_users, _ = _push(None)
    assert naive_users == BODIES * PER_BODY and naive.budget_shrinks == 0
    # After the first shrink, at most a third of the 429s a fixed budget collects (about a
    # fifth when measured).
    assert adaptive.http_429 - 1 <= naive.http_429 / 3
