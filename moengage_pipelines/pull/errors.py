"""Errors of the pull stage. Messages say what to do and never carry an API key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from moengage_pipelines.errors import MoEngageError

__all__ = [
    "PullError",
    "ReportSignatureError",
    "ReportUnavailableError",
    "ResponseShapeError",
    "StatsDayError",
    "StatsNotEnabledError",
    "StatsRequestError",
    "StatsWindowError",
]


class PullError(MoEngageError):
    """A pull could not produce trustworthy rows."""


class StatsWindowError(PullError, ValueError):
    """A campaign-stats date range is empty, reversed or longer than MoEngage allows (30 days)."""


class StatsNotEnabledError(PullError):
    """MoEngage answered 403: the Stats API is not enabled for this workspace or key."""


class StatsRequestError(PullError):
    """MoEngage rejected a campaign-stats request (400); the message names the request."""


class ResponseShapeError(PullError):
    """A response is not shaped as documented, so no row can be trusted (e.g. no ``data``)."""


class ReportUnavailableError(PullError):
    """A campaign report file is missing or expired (MoEngage keeps files 7 days).

    Attributes:
        filename: The file asked for.
        reason: ``"missing"`` or ``"expired"``.
    """

    def __init__(self, message: str, *, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(message)


class ReportSignatureError(PullError):
    """MoEngage refused a report download's signature (401): the workspace id or key is wrong.

    Attributes:
        filename: The file asked for.
    """

    def __init__(self, message: str, *, filename: str) -> None:
        self.filename = filename
        super().__init__(message)


class StatsDayError(PullError):
    """A stats pull failed on one day; the days before it were committed, the rest not.

    Attributes:
        day: The day that failed (nothing of it was written).
        committed: Days written before the failure, complete.
        not_written: The failed day and the days after it.
        retryable: True when the cause may pass on its own (a server error, a lost
            connection); False when retrying gives the same answer (a refusal, a bad answer).
        report: What the pull did until the failure (a ``StatsReport``).
    """

    def __init__(
        self,
        message: str,
        *,
        day: date,
        committed: Sequence[date],
        not_written: Sequence[date],
        retryable: bool,
        report: Any = None,
    ) -> None:
        self.day = day
        self.committed = list(committed)
        self.not_written = list(not_written)
        self.retryable = retryable
        self.report = report
        super().__init__(message)
