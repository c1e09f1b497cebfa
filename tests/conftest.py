"""Shared fixtures: services, environment."""

from __future__ import annotations

import pytest

from tests.services import require_postgres, require_redis


@pytest.fixture(scope="session", autouse=True)
def _isolated_rate_budget(tmp_path_factory: pytest.TempPathFactory):
    """Keep the machine-wide rate-budget file of tests out of the user's cache directory."""
    path = tmp_path_factory.mktemp("rate-budget") / "rate-budget.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOENGAGE_RATE_BUDGET_PATH", str(path))
        yield path


@pytest.fixture
def postgres_dsn() -> str:
    """DSN of the machine's PostgreSQL ``test`` database (fails in CI if it is down)."""
    return require_postgres()


@pytest.fixture
def redis_url() -> str:
    """URL of the machine's Redis (fails in CI if it is down)."""
    return require_redis()


# -- MoEngage emulator --------------------------------------------------------------------------
# Default test credentials shared by every suite: workspace TEST_WORKSPACE, data key
# test-data-key, campaign key test-campaign-key.


@pytest.fixture
def emulator():
    """A fresh in-process emulator (in-memory state); use ``emulator.transport()`` with httpx."""
    from moengage_pipelines.emulator import Emulator, EmulatorSettings

    with Emulator(EmulatorSettings()) as instance:
        yield instance


@pytest.fixture
def emulator_settings(emulator):
    """``MoEngageSettings`` for the ``emulator`` fixture (pair it with ``emulator.transport()``)."""
    from moengage_pipelines.config import MoEngageSettings

    settings = emulator.settings
    return MoEngageSettings(
        workspace_id=settings.workspace_id,
        data_api_key=settings.data_api_key,
        campaign_api_key=settings.campaign_api_key,
        dc=settings.dc,
    )


@pytest.fixture
def emulator_server():
    """A fresh emulator behind a real uvicorn server on a free loopback port.

    Has ``.url`` (base URL for ``MOENGAGE_BASE_URL``/``base_url``) and ``.emulator``.
    """
    from moengage_pipelines.emulator import Emulator, EmulatorServer, EmulatorSettings, serve

    with Emulator(EmulatorSettings()) as instance, serve(instance) as url:
        yield EmulatorServer(url, instance)
