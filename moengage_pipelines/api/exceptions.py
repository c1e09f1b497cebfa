"""Errors raised by the API layer that have no HTTP status of their own.

They subclass :class:`moengage_pipelines.errors.MoEngageError`, so callers that catch the
library's base error see them too. Messages never carry API keys.
"""

from __future__ import annotations

from moengage_pipelines.errors import MoEngageError

__all__ = ["MoEngageConnectionError", "RateBudgetError", "RateBudgetTimeoutError"]


class MoEngageConnectionError(MoEngageError):
    """The request could not be completed at the transport level after every retry.

    Attributes:
        endpoint: Request path (no query string).
        ambiguous: True when the request may have reached MoEngage and been applied before the
            connection failed (the response was lost), so a resend could duplicate data.
    """

    def __init__(self, message: str, *, endpoint: str = "", ambiguous: bool = False) -> None:
        self.endpoint = endpoint
        self.ambiguous = ambiguous
        super().__init__(f"MoEngage {endpoint}: {message}")


class RateBudgetError(MoEngageError, ValueError):
    """A request costs more than a rate window can ever hold, so waiting would never help."""


class RateBudgetTimeoutError(MoEngageError):
    """Waiting for the rate budget would take longer than the caller allowed.

    Attributes:
        wait: Seconds the budget would have needed.
    """

    def __init__(self, message: str, *, wait: float) -> None:
        self.wait = wait
        super().__init__(message)
