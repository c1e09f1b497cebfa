"""Failed runs as records: kept in a warehouse table and, when configured, posted to a webhook.

The run-failure sensor (``defs/operations/alerts.py``) turns each failed run into a
``RunFailure`` and hands it here. Messages are scrubbed of the MoEngage keys before they are
stored or sent, and the webhook's address (whose path is often its secret) never appears in
errors or logs: only its scheme and host do.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyarrow as pa

from moengage_pipelines.redaction import scrub_secrets
from moengage_pipelines.warehouse import Warehouse

__all__ = [
    "FAILURES_TABLE",
    "WEBHOOK_VARIABLE",
    "RunFailure",
    "StepFailure",
    "WebhookError",
    "post_failure",
    "record_failure",
]

FAILURES_TABLE = "moengage_run_failures"
WEBHOOK_VARIABLE = "MOENGAGE_ALERT_WEBHOOK_URL"
# Variables whose values must never leave in a stored or posted message.
_SECRET_VARIABLES = ("MOENGAGE_DATA_API_KEY", "MOENGAGE_CAMPAIGN_API_KEY")
# A step failure can carry a long stack of causes; the head says what went wrong.
_MESSAGE_LIMIT = 2_000
_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("job_name", pa.string()),
        ("partition", pa.string()),
        ("failed_at", pa.timestamp("us", tz="UTC")),
        ("failed_steps", pa.string()),
        ("message", pa.string()),
    ]
)


class WebhookError(RuntimeError):
    """The alert webhook could not be reached or refused the message."""


@dataclass(frozen=True)
class StepFailure:
    """One failed step of a run and what it said."""

    step: str
    message: str


@dataclass(frozen=True)
class RunFailure:
    """What an operator needs to know about one failed run."""

    run_id: str
    job_name: str
    partition: str | None
    failed_at: datetime
    run_message: str
    steps: tuple[StepFailure, ...] = field(default_factory=tuple)

    def scrubbed(self, secrets: Iterable[str | None] | None = None) -> RunFailure:
        """This failure with every secret (default: the MoEngage keys in the environment) hidden.

        Args:
            secrets: The values to hide; None reads the MoEngage key variables.
        """
        if secrets is None:
            secrets = [os.environ.get(name) for name in _SECRET_VARIABLES]
        hidden = [secret for secret in secrets if secret]

        def clean(text: str) -> str:
            return scrub_secrets(text, hidden)[:_MESSAGE_LIMIT]

        return RunFailure(
            run_id=self.run_id,
            job_name=self.job_name,
            partition=self.partition,
            failed_at=self.failed_at,
            run_message=clean(self.run_message),
            steps=tuple(StepFailure(s.step, clean(s.message)) for s in self.steps),
        )

    @property
    def summary(self) -> str:
        """One line: the job, the partition and the first failure's message."""
        where = f" (partition {self.partition})" if self.partition else ""
        first = self.steps[0] if self.steps else None
        cause = f"{first.step}: {first.message}" if first else self.run_message
        return f"Dagster run {self.run_id} of {self.job_name}{where} failed. {cause}".strip()

    def as_message(self) -> dict[str, Any]:
        """The JSON body posted to the webhook (``text`` suits Slack-style incoming webhooks)."""
        return {
            "text": self.summary,
            "run_id": self.run_id,
            "job_name": self.job_name,
            "partition": self.partition,
            "failed_at": self.failed_at.isoformat(),
            "run_message": self.run_message,
            "failed_steps": [{"step": s.step, "message": s.message} for s in self.steps],
        }


def record_failure(warehouse_url: str, failure: RunFailure) -> int:
    """Write ``failure`` as one row of ``moengage_run_failures`` (replacing a row of the same run).

    Args:
        warehouse_url: The warehouse receiving results (DuckDB or PostgreSQL URL).
        failure: The failure, already scrubbed.

    Returns:
        The number of rows written (1).
    """
    messages = [f"{s.step}: {s.message}" for s in failure.steps] or [failure.run_message]
    row = {
        "run_id": failure.run_id,
        "job_name": failure.job_name,
        "partition": failure.partition,
        "failed_at": failure.failed_at,
        "failed_steps": ", ".join(s.step for s in failure.steps),
        "message": "\n".join(messages),
    }
    table = pa.Table.from_pylist([row], schema=_SCHEMA)
    with Warehouse.open(warehouse_url) as warehouse:
        # Replacing by run id: a sensor tick evaluated twice leaves one row per run.
        return warehouse.replace_rows(FAILURES_TABLE, table, where={"run_id": failure.run_id})


def webhook_host(url: str) -> str:
    """The part of a webhook URL safe to show: its scheme and host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}"


def post_failure(url: str, failure: RunFailure, *, timeout: float = 10.0) -> None:
    """POST ``failure.as_message()`` as JSON to ``url``.

    Raises:
        WebhookError: On a connection error or a non-2xx answer; the message names only the
            webhook's scheme and host.
    """
    try:
        response = httpx.post(url, json=failure.as_message(), timeout=timeout)
    except httpx.HTTPError as exc:
        raise WebhookError(
            f"alert webhook at {webhook_host(url)} unreachable: {type(exc).__name__}"
        ) from None
    if not response.is_success:
        raise WebhookError(
            f"alert webhook at {webhook_host(url)} answered HTTP {response.status_code}"
        )
