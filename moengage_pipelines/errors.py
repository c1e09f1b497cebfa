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
    "UnexpectedAnswerError",
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
    """A 400/404/409/415/422: the request is wrong and retrying will not help.

    Attributes:
        client_side: True when MoEngage refused the request itself, not the data it carried:
            its format (malformed JSON, a missing ``Content-Type``, a body that is not the
            endpoint's envelope), its method or headers, or the workspace it names. Every
            other request built the same way would be refused the same way, so a caller
            sending many can stop. False for a refusal of one body's data (one bad element).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        client_side: bool = False,
        endpoint: str = "",
        body: str = "",
    ) -> None:
        super().__init__(status, message, endpoint=endpoint, body=body)
        self.client_side = client_side


class AuthError(MoEngageHTTPError):
    """A 401 or 403: wrong workspace id, wrong key family, or the feature is not enabled."""


class PayloadTooLargeError(MoEngageHTTPError):
    """A 413: the body exceeded the endpoint's size limit."""


class RateLimitedError(MoEngageHTTPError):
    """A 429 that outlasted the rate-limited deadline.

    Attributes:
        retry_after: Seconds the server asked us to wait, if it said.
        rate_limited_for: Seconds MoEngage had been answering 429 to this request when it
            was given up (None for a single 429 answer).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: float | None = None,
        rate_limited_for: float | None = None,
        **kw: str,
    ) -> None:
        super().__init__(status, message, **kw)
        self.retry_after = retry_after
        self.rate_limited_for = rate_limited_for


class ServerError(MoEngageHTTPError):
    """A 5xx that outlasted the retry budget."""


class UnexpectedAnswerError(MoEngageHTTPError):
    """A 2xx whose body is not MoEngage's JSON answer (an HTML page, text, nothing).

    Something between us and MoEngage answered (a proxy, a captive portal, a load balancer's
    error page), so MoEngage may or may not have received and applied the request: the
    failure is ambiguous, and it is retried like a lost answer.
    """
