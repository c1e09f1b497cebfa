"""Exceptions raised by the library. Messages never contain API keys."""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "MoEngageError",
    "MoEngageHTTPError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "RequestRejectedError",
    "ServerError",
]


class MoEngageError(Exception):
    """Base class of every error this library raises."""


class ConfigError(MoEngageError, ValueError):
    """A setting is missing or invalid (unknown data centre, missing key, bad mapping)."""


class MoEngageHTTPError(MoEngageError):
    """MoEngage answered with an error status.

    Attributes:
        status: HTTP status code.
        message: MoEngage's own message, taken from whichever error envelope the endpoint uses.
        endpoint: Request path (no query string, so no signature or key can leak into it).
        body: The response body text, truncated.
    """

    def __init__(self, status: int, message: str, *, endpoint: str = "", body: str = "") -> None:
        self.status = status
        self.message = message
        self.endpoint = endpoint
        self.body = body[:2000]
        super().__init__(f"MoEngage {endpoint} answered {status}: {message}")


class RequestRejectedError(MoEngageHTTPError):
    """A 400/404/409/415/422: the request is wrong and retrying will not help."""


class AuthError(MoEngageHTTPError):
    """A 401 or 403: wrong workspace id, wrong key family, or the feature is not enabled."""


class PayloadTooLargeError(MoEngageHTTPError):
    """A 413: the body exceeded the endpoint's size limit."""


class RateLimitedError(MoEngageHTTPError):
    """A 429 that outlasted the retry budget.

    Attributes:
        retry_after: Seconds the server asked us to wait, if it said.
    """

    def __init__(
        self, status: int, message: str, *, retry_after: float | None = None, **kw: str
    ) -> None:
        super().__init__(status, message, **kw)
        self.retry_after = retry_after


class ServerError(MoEngageHTTPError):
    """A 5xx that outlasted the retry budget."""
