"""Fixtures running the Dagster project against the sample warehouse and a real emulator."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from sample_data.build import build


@dataclass
class Deployment:
    """Where one test's Dagster project points."""

    warehouse: Path
    results: Path
    emulator_url: str
    emulator: object


@contextmanager
def deployed(directory: Path) -> Iterator[Deployment]:
    """Point every ``MOENGAGE_*`` variable at a fresh sample warehouse and loopback emulator."""
    from moengage_pipelines.emulator import Emulator, EmulatorSettings, serve

    warehouse = build(directory / "warehouse.duckdb")
    results = directory / "results.duckdb"
    with (
        Emulator(EmulatorSettings()) as emulator,
        serve(emulator) as url,
        pytest.MonkeyPatch.context() as patch,
    ):
        settings = emulator.settings
        patch.setenv("MOENGAGE_WORKSPACE_ID", settings.workspace_id)
        patch.setenv("MOENGAGE_DATA_API_KEY", settings.data_api_key)
        patch.setenv("MOENGAGE_CAMPAIGN_API_KEY", settings.campaign_api_key)
        patch.setenv("MOENGAGE_BASE_URL", url)
        patch.setenv("MOENGAGE_WAREHOUSE_URL", f"duckdb:///{warehouse}")
        patch.setenv("MOENGAGE_RESULTS_URL", f"duckdb:///{results}")
        # Each deployment has its own emulator, so its budget is not shared with other tests.
        patch.setenv("MOENGAGE_RATE_BUDGET_STORE", "memory")
        patch.delenv("MOENGAGE_DC", raising=False)
        yield Deployment(warehouse, results, url, emulator)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    """A deployment for one test."""
    with deployed(tmp_path) as value:
        yield value


@pytest.fixture(scope="module")
def module_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """A deployment shared by the tests of one module (they only read what a run left)."""
    with deployed(tmp_path_factory.mktemp("deployment")) as value:
        yield value
