from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moengage_pipelines.api.exceptions import RateBudgetError, RateBudgetTimeoutError
from moengage_pipelines.api.ratebudget import (
    CATALOG,
    TRANSITION_EVENTS,
    TRANSITION_USERS,
    BudgetStore,
    MemoryBudgetStore,
    RateBudget,
    SQLiteBudgetStore,
    Window,
    default_limits,
)
from moengage_pipelines.emulator.clock import FakeClock
from tests.api.budget_worker import spend


def _budget(store: BudgetStore, clock: FakeClock, **options: object) -> RateBudget:
    return RateBudget(
        store,
        namespace="ws",
        clock=clock,
        sleep=clock.sleep,
        slack=0.0,
        **options,  # type: ignore[arg-type]
    )


def test_default_limits_match_moengage_documentation() -> None:
    limits = default_limits()
    assert limits[TRANSITION_USERS] == (Window(60_000, 60),)
    assert limits[TRANSITION_EVENTS] == (Window(60_000, 60),)
    assert limits[CATALOG] == (Window(100, 60), Window(1_000, 3_600))
    assert [w.limit for w in limits["campaigns"]] == [10, 100, 6_000]
    assert limits["campaign_stats"] == (Window(100, 62),)  # 2 s margin against sliding windows


def test_requests_within_a_window_do_not_wait_and_the_next_waits_for_the_oldest(
    store: BudgetStore,
) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    start = clock.now
    for _ in range(100):
        assert budget.acquire({CATALOG: 1}) == 0.0
        clock.advance(0.1)
    # 100 requests spread over 10 s: the 101st must wait for the first to leave the minute.
    waited = budget.acquire({CATALOG: 1})
    assert clock.now - start == pytest.approx(60.0, abs=0.01)
    assert waited == pytest.approx(50.0, abs=0.01)
    assert budget.used(CATALOG) == 100


def test_every_window_of_a_bucket_is_enforced(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock, limits={"pool": (Window(3, 1.0), Window(5, 10.0))})
    granted = []
    for _ in range(7):
        budget.acquire({"pool": 1})
        granted.append(round(clock.now - 1_700_000_000.0, 3))
    # 3 at t=0, then the per-second window admits 2 more at t=1; the 10 s window is then full
    # until the first three leave at t=10.
    assert granted[:5] == pytest.approx([0.0, 0.0, 0.0, 1.0, 1.0], abs=0.01)
    assert granted[5] == pytest.approx(10.0, abs=0.01)


def test_weighted_costs_spend_users_and_events(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    budget.acquire({TRANSITION_USERS: 50_000, TRANSITION_EVENTS: 1_000})
    clock.advance(5)
    # users would overflow the minute: wait until the first body leaves (55 s more)
    waited = budget.acquire({TRANSITION_USERS: 20_000, TRANSITION_EVENTS: 10})
    assert waited == pytest.approx(55.0, abs=0.01)


def test_multi_bucket_spend_is_all_or_nothing(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(
        store, clock, limits={"users": (Window(100, 60),), "events": (Window(100, 60),)}
    )
    budget.acquire({"events": 100})
    with pytest.raises(RateBudgetTimeoutError) as raised:
        budget.acquire({"users": 10, "events": 10}, max_wait=1.0)
    assert raised.value.wait == pytest.approx(60.0, abs=0.01)
    # the refused request did not spend users
    assert budget.used("users") == 0


def test_a_cost_larger_than_a_window_fails_at_once(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    with pytest.raises(RateBudgetError, match=r"transition_users.*60000/min"):
        budget.acquire({TRANSITION_USERS: 60_001})
    assert clock.sleeps == []
    with pytest.raises(RateBudgetError, match="negative"):
        budget.acquire({CATALOG: -1})


def test_time_scale_shrinks_the_windows(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock, time_scale=60.0)
    for _ in range(100):
        budget.acquire({CATALOG: 1})
    # a minute of MoEngage time lasts one real second
    assert budget.acquire({CATALOG: 1}) == pytest.approx(1.0, abs=0.01)


def test_pause_holds_everyone_back(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock)
    other = _budget(store, clock)  # another client of the same store and workspace
    budget.pause([CATALOG], 12.0)
    assert other.acquire({CATALOG: 1}) == pytest.approx(12.0, abs=0.01)


def test_unknown_buckets_and_zero_costs_are_free(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock, limits={})
    assert budget.acquire({"anything": 10**9}) == 0.0
    assert RateBudget.unlimited().acquire({CATALOG: 10**6}) == 0.0


def test_namespaces_do_not_share_spending(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SQLiteBudgetStore(tmp_path / "b.sqlite")
    one = RateBudget(store, namespace="ws-1", clock=clock, sleep=clock.sleep)
    two = RateBudget(store, namespace="ws-2", clock=clock, sleep=clock.sleep)
    for _ in range(100):
        one.acquire({CATALOG: 1})
    assert two.acquire({CATALOG: 1}) == 0.0


def test_from_url_builds_each_store(tmp_path: Path) -> None:
    assert isinstance(RateBudget.from_url("memory://").store, MemoryBudgetStore)
    sqlite_budget = RateBudget.from_url(f"sqlite:///{tmp_path}/x.sqlite", namespace="n")
    assert isinstance(sqlite_budget.store, SQLiteBudgetStore)
    assert sqlite_budget.store.path == tmp_path / "x.sqlite"
    with pytest.raises(ValueError, match="unknown rate budget store"):
        RateBudget.from_url("ftp://x")


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.integers(1, 40), st.floats(0.0, 3.0, allow_nan=False)),
        min_size=1,
        max_size=60,
    )
)
def test_no_window_ever_holds_more_than_its_limit(steps: list[tuple[int, float]]) -> None:
    clock = FakeClock()
    windows = (Window(40, 1.0), Window(100, 5.0))
    budget = RateBudget(
        MemoryBudgetStore(),
        namespace="p",
        limits={"pool": windows},
        clock=clock,
        sleep=clock.sleep,
        slack=0.0,
    )
    admitted: list[tuple[float, int]] = []
    for cost, gap in steps:
        clock.advance(gap)
        budget.acquire({"pool": cost})
        admitted.append((clock.now, cost))
    for stamp, _ in admitted:
        for window in windows:
            inside = sum(c for t, c in admitted if stamp - window.seconds < t <= stamp)
            assert inside <= window.limit


def test_sqlite_store_is_shared_by_processes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start = context.Barrier(3)
    path = str(tmp_path / "shared.sqlite")
    workers = [
        context.Process(target=spend, args=(path, 10, 10, 0.3, queue, start)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    stamps = sorted(stamp for _ in workers for stamp in queue.get(timeout=60))
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert len(stamps) == 30
    # no 0.3 s span holds more than 10 grants, though three processes asked at once
    for index, stamp in enumerate(stamps):
        assert len([s for s in stamps[index:] if s - stamp < 0.3]) <= 10
    assert stamps[-1] - stamps[0] >= 0.6


def test_hold_keeps_a_request_in_the_window_until_it_completes(store: BudgetStore) -> None:
    clock = FakeClock()
    budget = _budget(store, clock, limits={"pool": (Window(1, 60),)})
    start = clock.now
    with budget.hold({"pool": 1}) as waited:
        assert waited == 0.0
        clock.advance(10)  # a slow request: the server may count it at any point until now
    # the unit is spent until a full window after the request ended, not after it began
    assert budget.acquire({"pool": 1}) == pytest.approx(60.0, abs=0.01)
    assert clock.now - start == pytest.approx(70.0, abs=0.01)


def test_budget_for_workspace_picks_the_store_and_namespace(tmp_path: Path) -> None:
    from moengage_pipelines.api.ratebudget import budget_for_workspace, namespace_for
    from tests.api.support import settings

    assert namespace_for(settings()) == "TEST_WORKSPACE"
    assert namespace_for(settings("http://127.0.0.1:1")) == "http://127.0.0.1:1|TEST_WORKSPACE"
    memory = budget_for_workspace("WS", store="memory", time_scale=60)
    assert isinstance(memory.store, MemoryBudgetStore)
    assert (memory.namespace, memory.time_scale) == ("WS", 60.0)
    file = budget_for_workspace(settings(), store=f"sqlite:///{tmp_path}/f.sqlite")
    assert isinstance(file.store, SQLiteBudgetStore)
    assert file.store.path == tmp_path / "f.sqlite"
