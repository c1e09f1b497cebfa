"""Which push failures a step retry can fix, and the ``dg.Failure`` each one becomes.

A retry helps when the cause may pass: a 5xx, a timeout, a lost connection, 429s that outlasted
the deadline. It cannot help when the cause is in the request or the setup: refused
credentials (401/403), a request MoEngage refuses as malformed, a bad mapping or setting, a
missing table or column, a catalog whose id is unknown. Those fail the step at once
(``allow_retries=False``), their cause in the failure's description and metadata, so the run
page says what to fix instead of waiting minutes for retries that fail the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import dagster as dg

from moengage_pipelines.errors import (
    AuthError,
    ConfigError,
    MoEngageError,
    RequestRejectedError,
)
from moengage_pipelines.redaction import scrub_secrets
from moengage_pipelines.warehouse.errors import WarehouseError

__all__ = ["PERMANENT_STATUSES", "failure_for_error", "is_permanent_error", "is_permanent_status"]

# Answers that repeat on every retry: the request or the credentials are wrong.
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 409, 415, 422})


def is_permanent_status(status: int | None) -> bool:
    """True when a delivery stopped on an answer a retry would get again."""
    return status in PERMANENT_STATUSES


def is_permanent_error(error: BaseException) -> bool:
    """True when ``error`` would be raised again by a retry of the step."""
    if isinstance(error, AuthError | ConfigError):
        return True
    if isinstance(error, RequestRejectedError):
        return True
    # A missing table or column is a setup problem; a lost connection is not.
    return isinstance(error, WarehouseError) and isinstance(error, LookupError | FileNotFoundError)


def _kind(error: BaseException) -> str:
    if isinstance(error, AuthError):
        return "MoEngage refused the credentials"
    if isinstance(error, ConfigError):
        return "the configuration is invalid"
    if isinstance(error, RequestRejectedError):
        return "MoEngage refused the request"
    if isinstance(error, WarehouseError):
        return "the source cannot be read"
    return "the push failed"


def failure_for_error(
    error: MoEngageError,
    *,
    sync_name: str,
    secrets: Iterable[str | None] = (),
    metadata: dict[str, Any] | None = None,
) -> dg.Failure:
    """The step failure for an error a push raised.

    Args:
        error: What the library raised.
        sync_name: The push's name, e.g. ``moengage/events``.
        secrets: Keys and passwords to scrub from the message (the library leaves none, this
            is a second guard).
        metadata: Metadata of what the push did before it failed.

    Returns:
        A ``dg.Failure`` that is retried only when a retry may succeed.
    """
    permanent = is_permanent_error(error)
    cause = scrub_secrets(str(error), secrets)
    advice = (
        "Not retried: a retry would fail the same way; fix the cause and re-run."
        if permanent
        else "Retried by the asset's retry policy; the push ledger skips what was accepted."
    )
    return dg.Failure(
        description=f"{sync_name}: {_kind(error)}: {cause}. {advice}",
        metadata={
            **(metadata or {}),
            "cause": cause,
            "error": type(error).__name__,
            "retryable": not permanent,
        },
        allow_retries=not permanent,
    )
