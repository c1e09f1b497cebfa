"""Several processes pushing to one workspace share one rate budget and never hit a 429."""

from __future__ import annotations

import multiprocessing
import uuid
from pathlib import Path
from typing import Any

import pytest

from moengage_pipelines.emulator.settings import EmulatorSettings, RateLimit
from tests.api.support import running
from tests.delivery.push_worker import push

WORKERS = 4
PLAN = {
    "time_scale": 60.0,  # a minute's budget lasts a second
    "users_per_minute": 600,
    "bodies": 9,
    "per_body": 50,  # 4 x 9 x 50 = 1,800 users: three windows' worth
}


def _run(store_spec: tuple[str, str]) -> tuple[list[dict[str, Any]], dict[str, Any], int, int]:
    emulator_settings = EmulatorSettings(
        time_scale=PLAN["time_scale"],
        rate_limits={"transition_users": (RateLimit(PLAN["users_per_minute"], 60),)},
    )
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start = context.Barrier(WORKERS)
    with running(emulator_settings) as (emulator, url):
        workers = [
            context.Process(target=push, args=(url, store_spec, index, PLAN, queue, start))
            for index in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        results = [queue.get(timeout=120) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
            assert worker.exitcode == 0
        usage = next(
            pool
            for pool in emulator.inspect.rate_usage().values()
            if pool["pool"] == "transition_users"
        )
        refused = emulator.inspect.counters().get("transition", {}).get("429", 0)
        users = len(emulator.inspect.users())
    return results, usage, refused, users


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_processes_sharing_a_budget_never_exceed_the_workspace_limit(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "file":
        spec = ("file", str(tmp_path / "budget.sqlite"))
    else:
        url = request.getfixturevalue("redis_url")
        spec = ("redis", f"{url}|test-shared:{uuid.uuid4().hex}")
    results, usage, refused, users = _run(spec)
    assert users == WORKERS * PLAN["bodies"] * PLAN["per_body"]
    assert all(result["failed_bodies"] == 0 and result["http_429"] == 0 for result in results)
    assert refused == 0 and usage["refused_requests"] == 0
    assert usage["max_requested"] <= PLAN["users_per_minute"]
    assert usage["windows"] >= 3  # the push really spanned several windows


def test_without_a_shared_budget_the_processes_overrun_the_limit() -> None:
    # The control: the same push with a budget private to each process gets refused. A 429 is
    # back-pressure: the clients wait as told and every body still arrives.
    results, usage, refused, _ = _run(("memory", ""))
    assert refused > 0 and usage["max_requested"] > PLAN["users_per_minute"]
    assert sum(result["http_429"] for result in results) > 0
    assert sum(result["failed_bodies"] for result in results) == 0
