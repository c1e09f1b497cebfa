"""Shared fixtures: services, environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.services import require_postgres, require_redis


@pytest.fixture(scope="session", autouse=True)
def _isolated_rate_budget(tmp_path_factory: pytest.TempPathFactory):
    """Keep the machine-wide rate-budget file of tests out of the user's cache directory."""
    path = tmp_path_factory.mktemp("rate-budget") / "rate-budget.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOENGAGE_RATE_BUDGET_PATH", str(path))
        yield path


@pytest.fixture(autouse=True)
def _isolated_delivery_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Give each test its own default delivery state, never the user's own state directory.

    Pushes keep their state by default (``MOENGAGE_STATE_URL``, else a file under
    ``$XDG_STATE_HOME``): tests pushing the same rows must not skip each other's bodies.
    """
    state_home = tmp_path / "xdg-state"
    monkeypatch.delenv("MOENGAGE_STATE_URL", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(state_home))
    return state_home


@pytest.fixture
def postgres_dsn() -> str:
    """DSN of the machine's PostgreSQL ``test`` database (fails in CI if it is down)."""
    return require_postgres()


@pytest.fixture
def redis_url() -> str:
    """URL of the machine's Redis (fails in CI if it is down)."""
    return require_redis()


# -- MoEngage emulator --------------------------------------------------------------------------
# The emulator fixtures come from the package's pytest plugin (moengage_emulator,
# moengage_emulator_settings, moengage_emulator_server, moengage_emulator_factory,
# moengage_clock): workspace TEST_WORKSPACE, data key test-data-key, campaign key
# test-campaign-key. pytester runs the plugin the way a user's suite does.

pytest_plugins = ("pytester",)
