"""The client's default budget follows MOENGAGE_RATE_BUDGET_STORE, like the CLI and Dagster."""

from __future__ import annotations

from pathlib import Path

import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import (
    MemoryBudgetStore,
    RedisBudgetStore,
    SQLiteBudgetStore,
)
from moengage_pipelines.config import MoEngageSettings

SETTINGS = MoEngageSettings(workspace_id="WS", data_api_key="k", campaign_api_key="c")


def test_unset_variable_means_the_machine_wide_file(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MOENGAGE_RATE_BUDGET_STORE", raising=False)
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_PATH", str(tmp_path / "budget.sqlite"))
    with MoEngageClient(SETTINGS) as client:
        assert isinstance(client.budget.store, SQLiteBudgetStore)


def test_memory_store_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", "memory")
    with MoEngageClient(SETTINGS) as client:
        assert isinstance(client.budget.store, MemoryBudgetStore)


def test_redis_store_from_the_environment(monkeypatch, redis_url: str) -> None:
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", redis_url)
    with MoEngageClient(SETTINGS) as client:
        assert isinstance(client.budget.store, RedisBudgetStore)


def test_unknown_store_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", "carrier-pigeon")
    with pytest.raises(ValueError, match="carrier-pigeon"):
        MoEngageClient(SETTINGS)
