"""Errors raised by the API layer that have no HTTP status of their own.

They subclass :class:`moengage_pipelines.errors.MoEngageError`, so callers that catch the
library's base error see them too. Messages never carry API keys.
"""

from __future__ import annotations

from moengage_pipelines.errors import MoEngageError

__all__ = [
    "MoEngageConnectionError",
    "MoEngageUnreachableError",
    "RateBudgetError",
    "RateBudgetStoreError",
    "RateBudgetTimeoutError",
]


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


class MoEngageUnreachableError(MoEngageConnectionError):
    """MoEngage's host could not be connected to, several times in a row: nothing was sent.

    Raised at once, without a connection attempt, while the client's circuit is open (see
    :class:`~moengage_pipelines.api.circuit.CircuitBreaker`): every request would fail the
    same way, so none waits for its own timeouts. Never ambiguous.

    Attributes:
        host: The API host, with any password in its URL hidden.
        cause: The last connection failure, e.g. ``ConnectError: [Errno 111] Connection
            refused``.
        failures: Connection attempts in a row that failed when the circuit opened.
    """

    def __init__(self, *, host: str, cause: str, failures: int, endpoint: str = "") -> None:
        self.host = host
        self.cause = cause
        self.failures = failures
        super().__init__(
            f"{host} is unreachable: {failures} connection attempts in a row failed, the last "
            f"with {cause}; nothing was sent",
            endpoint=endpoint,
            ambiguous=False,
        )


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


class RateBudgetStoreError(MoEngageError):
    """The rate budget's store (a SQLite file, Redis) failed while a request waited for it.

    Nothing was sent: the request never got past the budget.
    """
