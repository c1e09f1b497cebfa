"""Body of one pushing process in the shared-budget tests (kept light: spawn imports it)."""

from __future__ import annotations

from typing import Any

import orjson

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import (
    BudgetStore,
    MemoryBudgetStore,
    RateBudget,
    RedisBudgetStore,
    SQLiteBudgetStore,
    Window,
)
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send import TransitionSender, deliver


def _bodies(worker: int, count: int, per_body: int) -> list[Body]:
    bodies = []
    for index in range(count):
        first = index * per_body
        elements = [
            {"type": "customer", "customer_id": f"w{worker}-{row}", "attributes": {"n": row}}
            for row in range(first, first + per_body)
        ]
        payload = orjson.dumps({"type": "transition", "elements": elements})
        bodies.append(Body("transition", payload, users=per_body, first_row=first))
    return bodies


def push(
    url: str,
    store_spec: tuple[str, str],
    worker: int,
    plan: dict[str, Any],
    queue: Any,
    start: Any,
) -> None:
    """Push ``plan["bodies"]`` bodies of ``plan["per_body"]`` users through a budget."""
    kind, where = store_spec
    store: BudgetStore
    if kind == "file":
        store = SQLiteBudgetStore(where)
    elif kind == "redis":
        redis_url, prefix = where.split("|")
        store = RedisBudgetStore(redis_url, prefix=prefix)
    else:
        store = MemoryBudgetStore()  # private to this process: the control case
    budget = RateBudget(
        store,
        namespace="shared-workspace",
        time_scale=plan["time_scale"],
        limits={"transition_users": [Window.per_minute(plan["users_per_minute"])]},
    )
    settings = MoEngageSettings(
        workspace_id="TEST_WORKSPACE",
        data_api_key="test-data-key",
        campaign_api_key="test-campaign-key",
        base_url=url,
    )
    bodies = _bodies(worker, plan["bodies"], plan["per_body"])
    # One attempt only: any failure other than a 429 (back-pressure, waited out) would show.
    with MoEngageClient(settings, budget=budget, retry=RetryConfig(max_attempts=1)) as client:
        start.wait(timeout=60)  # every process pushes at the same moment
        result = deliver(bodies, TransitionSender(client), concurrency=2)
    queue.put(result.as_dict())
