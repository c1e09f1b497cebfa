"""Shared fixtures: services, environment."""

from __future__ import annotations

import pytest

from tests.services import require_postgres, require_redis


@pytest.fixture
def postgres_dsn() -> str:
    """DSN of the machine's PostgreSQL ``test`` database (fails in CI if it is down)."""
    return require_postgres()


@pytest.fixture
def redis_url() -> str:
    """URL of the machine's Redis (fails in CI if it is down)."""
    return require_redis()
