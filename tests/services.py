"""Access to the machine's PostgreSQL and Redis for tests.

In CI (``CI=true``) a missing service is a failure; on a laptop without it, the test skips
with the reason.
"""

from __future__ import annotations

import os
import socket

import pytest

POSTGRES_DSN = os.environ.get("MOENGAGE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MOENGAGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Fail (in CI) or skip (elsewhere) when a service is not listening."""
    if _reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if _in_ci():
        pytest.fail(f"{message}; CI needs it (start it, see README)", pytrace=False)
    pytest.skip(f"{message}; start it to run this test")


def require_postgres() -> str:
    """Return the test DSN, failing in CI or skipping elsewhere if Postgres is down."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    return POSTGRES_DSN


def require_redis() -> str:
    """Return the test Redis URL, failing in CI or skipping elsewhere if Redis is down."""
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL
