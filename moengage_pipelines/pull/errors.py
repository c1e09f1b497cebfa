"""Errors of the pull stage. Messages say what to do and never carry an API key."""

from __future__ import annotations

from moengage_pipelines.errors import MoEngageError

__all__ = [
    "PullError",
    "ReportUnavailableError",
    "ResponseShapeError",
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
