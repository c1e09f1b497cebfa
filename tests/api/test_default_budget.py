"""The client's default budget follows MOENGAGE_RATE_BUDGET_STORE, like the CLI and Dagster."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.exceptions import RateBudgetStoreError
from moengage_pipelines.api.ratebudget import (
    MemoryBudgetStore,
    RateBudget,
    RedisBudgetStore,
    SQLiteBudgetStore,
)
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.errors import ConfigError

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


@pytest.mark.parametrize(
    ("store", "problem"),
    [
        ("bogus", "unknown rate budget store 'bogus'"),
        ("ftp://user:s3cret@host/x", "unknown rate budget store 'ftp://...'"),
        ("redis://:s3cret@127.0.0.1:1/0", "ConnectionError"),
    ],
)
def test_a_store_that_cannot_work_is_a_config_error_when_the_client_is_built(
    monkeypatch, store: str, problem: str
) -> None:
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", store)
    with pytest.raises(ConfigError) as raised:
        MoEngageClient(SETTINGS)
    message = str(raised.value)
    assert message.startswith("MOENGAGE_RATE_BUDGET_STORE=") and "does not work" in message
    assert problem in message
    assert "s3cret" not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_an_unwritable_sqlite_file_is_a_config_error(monkeypatch, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the budget's folder should be")
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", f"sqlite:///{blocker}/budget.sqlite")
    with pytest.raises(ConfigError, match=r"MOENGAGE_RATE_BUDGET_STORE=.*does not work") as raised:
        MoEngageClient(SETTINGS)
    assert "not-a-folder" in str(raised.value)


def test_a_store_failing_during_a_request_is_a_budget_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "budget"
    budget = RateBudget(SQLiteBudgetStore(folder / "budget.sqlite"), namespace="ws")
    budget.check()
    budget.close()
    shutil.rmtree(folder)
    folder.write_text("the folder is gone; a file took its place")
    with pytest.raises(RateBudgetStoreError, match="SQLiteBudgetStore"):
        budget.acquire({"catalog": 1})
