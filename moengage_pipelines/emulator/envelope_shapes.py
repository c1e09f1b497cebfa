"""The shapes of MoEngage's error bodies, as templates the envelope table's rows fill in.

A body template is JSON-shaped: strings are ``str.format`` templates over the fields
``status``, ``message``, ``type``, ``attribute`` (``""`` when there is none), ``request_id``,
``reason`` (the status's reason phrase), ``reason_caps`` and ``error_code`` (the catalog
code, see ``catalog_code``); ``IfGiven(field)`` is a value left out, key and all, when the
field is None; other values are literal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CAMPAIGNS",
    "CAMPAIGNS_429",
    "CAMPAIGNS_AUTH",
    "CATALOG",
    "CATALOG_ERROR_CODES",
    "DATA",
    "DATA_TITLED_5XX",
    "DATA_TITLED_429",
    "REPORTS",
    "STATS",
    "STATUS_REASONS",
    "IfGiven",
    "catalog_code",
]


@dataclass(frozen=True)
class IfGiven:
    """A template value that is the field's, or left out (key and all) when it is None."""

    field: str


STATUS_REASONS: Mapping[int, str] = MappingProxyType(
    {
        400: "Bad Request",
        401: "Authentication required",
        403: "Forbidden Request",
        404: "Not Found",
        405: "Method Not Allowed",
        409: "Conflict",
        413: "Payload Too Large",
        415: "Unsupported Media Type",
        429: "Too Many Requests",
        431: "Request Header Fields Too Large",
        500: "Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
)

# Every ``error-code`` the catalog API answers: the documented ones, and two for situations
# MoEngage documents no body for (429, 5xx).
CATALOG_ERROR_CODES = frozenset(
    {
        "invalid-request",
        "request-unauthenticated",
        "request-denied",
        "catalog-not-found",
        "payload-size-exceeded",
        "duplicate-catalog-name",
        "missing-mandatory-attributes",
        "catalog-limit-exceeded",
        "attribute-limit-exceeded",
        "attribute-exists",
        "too-many-attributes",
        "rate-limit-exceeded",
        "internal-server-error",
    }
)
# The catalog code of a status whose type is no catalog code. 405 and 431 have none; they are
# requests MoEngage cannot serve as sent, so they share the 400's ``invalid-request``.
_CATALOG_STATUS_CODES: Mapping[int, str] = MappingProxyType(
    {
        400: "invalid-request",
        401: "request-unauthenticated",
        403: "request-denied",
        404: "catalog-not-found",
        405: "invalid-request",
        409: "duplicate-catalog-name",
        413: "payload-size-exceeded",
        415: "invalid-request",
        429: "rate-limit-exceeded",
        431: "invalid-request",
    }
)


def catalog_code(status: int, type: str | None) -> str:
    """The catalog ``error-code``: ``type`` when it is one, else the status's code.

    The shared rows carry the Data APIs' types ("Authentication required"); the catalog API
    answers kebab-case codes instead.
    """
    if type in CATALOG_ERROR_CODES:
        return type
    if status >= 500:
        return "internal-server-error"
    return _CATALOG_STATUS_CODES.get(status, "invalid-request")


# -- each family's shape, and the bodies some rows answer instead -----------------------------

DATA = {
    "status": "fail",
    "error": {
        "attribute": IfGiven("attribute"),
        "message": "{message}",
        "type": "{type}",
        "request_id": "{request_id}",
    },
}
# Delete User answers throttling and server errors with a title instead of an error object.
DATA_TITLED_429 = {
    "status": "fail",
    "title": "Rate limit exceeded",
    "description": "Exceeded rate limit for this url",
}
DATA_TITLED_5XX = {
    "status": "fail",
    "title": "Internal Error",
    "description": "Please contact the MoEngage team.",
}
STATS = {"title": "{type}", "description": "{message}", "code": "{request_id}"}
CAMPAIGNS = {
    "error": {
        "code": "{status} {type}",
        "message": "{message}",
        "target": "{attribute}",
        "details": [{"target": "{attribute}", "message": "{message}"}],
        "request_id": "{request_id}",
    }
}
# The campaigns APIs' credential errors name the offending header or key as the target.
CAMPAIGNS_AUTH = {
    "error": {
        "code": "{status} {type}",
        "message": "Authentication required",
        "target": "{attribute}",
        "details": [{"code": "InvalidValue", "target": "{attribute}", "message": "{message}"}],
        "request_id": "{request_id}",
    }
}
CAMPAIGNS_429 = {
    "error": {
        "code": "429 conflict",
        "message": "rate_limit",
        "target": "",
        "details": [{"target": "rate_limit", "message": "Rate limiting breached"}],
        "request_id": "{request_id}",
    }
}
CATALOG = {"error-code": "{error_code}", "message": "{message}"}
REPORTS = {
    "error": {
        "attribute": "{attribute}",
        "message": "{message}",
        "type": "{reason_caps}",
        "request_id": "{request_id}",
    }
}
