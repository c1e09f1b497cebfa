"""MoEngage's answers, read once: which are errors, of which type, with which message.

* A 2xx is MoEngage's answer only when its body is the JSON the endpoint answers (an object
  for bulk import and catalog items); an HTML page or text from a proxy or a captive portal
  is an :class:`~moengage_pipelines.errors.UnexpectedAnswerError`, ambiguous since MoEngage
  may or may not have seen the request.
* A 2xx whose body says ``"status": "fail"``, and every 4xx, become the typed errors of
  :mod:`moengage_pipelines.errors` carrying MoEngage's own message; a refusal of the request
  as built is marked ``client_side`` (see
  :func:`~moengage_pipelines.api.envelopes.refuses_the_request_itself`).

Every server text kept in an error goes through the caller's ``scrub`` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import httpx

from moengage_pipelines.api.envelopes import (
    body_reports_failure,
    error_message,
    parse_json,
    refuses_the_request_itself,
)
from moengage_pipelines.errors import (
    AuthError,
    MoEngageHTTPError,
    PayloadTooLargeError,
    RequestRejectedError,
    ServerError,
    UnexpectedAnswerError,
)

__all__ = ["Expected", "error_of", "refusal_of", "reports_failure", "unexpected_answer"]

Expected = Literal["object", "json"]
"""What a 2xx body must be: a JSON object, or any JSON document."""

# Bytes of an error body read (and scrubbed) to find MoEngage's message, and characters of it
# kept on the error: a secret is scrubbed before the cut, so no cut can leave half of one.
_ERROR_BODY_SCANNED = 1 << 20
_ERROR_BODY_KEPT = 2000
# Characters of a foreign answer quoted in the error message.
_QUOTED = 120

Scrub = Callable[[str], str]


def unexpected_answer(
    response: httpx.Response, endpoint: str, expected: Expected | None, scrub: Scrub
) -> UnexpectedAnswerError | None:
    """The error of a 2xx that is not MoEngage's answer, or None when it is.

    Args:
        response: A 2xx response.
        endpoint: The request's path.
        expected: What the endpoint answers; None accepts any body (a file download).
        scrub: Removes secrets from server text.
    """
    if expected is None:
        return None
    document = parse_json(response.content)
    if document is None:
        kind = response.headers.get("content-type", "").split(";")[0].strip() or "no type"
        why = "an empty body" if not response.content.strip() else f"a {kind} body"
    elif expected == "object" and not isinstance(document, dict):
        why = f"a JSON {type(document).__name__}, not an object"
    else:
        return None
    text = response.content[:_ERROR_BODY_SCANNED].decode("utf-8", errors="replace")
    quoted = " ".join(scrub(text).split())
    if len(quoted) > _QUOTED:
        quoted = quoted[: _QUOTED - 1] + "…"
    message = (
        f"not MoEngage's answer ({why}{': ' + repr(quoted) if quoted else ''}); something "
        "between us and MoEngage answered, which may or may not have applied the request"
    )
    return error_of(response, endpoint, UnexpectedAnswerError, scrub, message=message)


def refusal_of(response: httpx.Response, endpoint: str, scrub: Scrub) -> MoEngageHTTPError:
    """The typed error of an answer other than 429: a 2xx saying it failed, a 4xx or a 5xx."""
    status = response.status_code
    if status >= 500:
        return error_of(response, endpoint, ServerError, scrub)
    if status in (401, 403):
        return error_of(response, endpoint, AuthError, scrub)
    if status == 413:
        return error_of(response, endpoint, PayloadTooLargeError, scrub)
    client_side = refuses_the_request_itself(status, response.content)
    return error_of(response, endpoint, RequestRejectedError, scrub, client_side=client_side)


def reports_failure(response: httpx.Response) -> bool:
    """True for a 2xx whose body says ``"status": "fail"``."""
    return body_reports_failure(parse_json(response.content))


def error_of(
    response: httpx.Response,
    endpoint: str,
    kind: type[MoEngageHTTPError],
    scrub: Scrub,
    *,
    message: str | None = None,
    **extra: Any,
) -> MoEngageHTTPError:
    """An error of type ``kind`` for ``response``, with MoEngage's message unless given.

    Args:
        response: The answer.
        endpoint: The request's path.
        kind: The error type.
        scrub: Removes secrets from server text.
        message: The message; defaults to the one MoEngage's envelope carries.
        **extra: The type's own arguments (``retry_after``, ``client_side``).
    """
    text = response.content[:_ERROR_BODY_SCANNED].decode("utf-8", errors="replace")
    body = scrub(text)
    if message is None:
        message = scrub(error_message(body.encode(), reason=response.reason_phrase))
    return kind(
        response.status_code, message, endpoint=endpoint, body=body[:_ERROR_BODY_KEPT], **extra
    )
