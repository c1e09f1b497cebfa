"""Fixtures of the API tests: a rate-budget store of every kind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from moengage_pipelines.api.ratebudget import (
    BudgetStore,
    MemoryBudgetStore,
    RedisBudgetStore,
    SQLiteBudgetStore,
)


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BudgetStore]:
    """A fresh store of each kind: in memory, in a SQLite file, in Redis."""
    if request.param == "memory":
        made: BudgetStore = MemoryBudgetStore()
    elif request.param == "sqlite":
        made = SQLiteBudgetStore(tmp_path / "budget.sqlite")
    else:
        url = request.getfixturevalue("redis_url")
        made = RedisBudgetStore(url, prefix=f"test-budget:{uuid.uuid4().hex}")
    yield made
    made.close()
