"""Reading MoEngage's error envelopes.

Each API family wraps its errors differently; this module turns any of them into one
readable message, so an exception says what MoEngage said. Envelopes handled:

* Data API: ``{"status": "fail", "error": {"type", "message", "attribute"?, "request_id"}}``
* Catalog: ``{"error-code", "message"}``
* Campaign stats, file segments, 401s of file imports: ``{"title", "description", "code"?}``
* Campaigns (legacy and v5), business events: ``{"error": {"code", "message", "details": [...]}}``
* Delete user 429/500: ``{"status": "fail", "title", "description"}``
* File imports: ``{"status": "fail", "error_type", "message"}``
* Anything else: the body text, shortened.

:func:`refuses_the_request_itself` tells a refusal of the request as built (its format, its
headers, the workspace it names), which every request built the same way meets, from a
refusal of the data one body carries.
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["body_reports_failure", "error_message", "parse_json", "refuses_the_request_itself"]

_MAX_TEXT = 300

# Error types (Data API ``error.type``, catalog ``error-code``, lower-cased) that refuse the
# request as built: its headers, its format, the workspace or account it names. MoEngage's
# data-overview error table lists them; none depends on the data of one body.
_REQUEST_TYPES = frozenset(
    {
        "missing header value",
        "empty request body",
        "body type is not json",
        "malformed json",
        "paramsrequired",
        "invalidparams",
        "mediatypeerror",
        "unsupported media type",
        "blacklisted",
        "account suspended",
        "account temporarily suspended",
        "blockedclient",
        "authentication mismatch",
        "authentication required",
    }
)
# Statuses that refuse how a request is made (method, media type, header size), whatever it
# carries.
_REQUEST_STATUSES = frozenset({405, 415, 431})
# Fields of the bulk-import envelope itself (``{"type": "transition", "elements": [...]}``):
# a refusal naming one is about the envelope the client writes, not one element's data.
_ENVELOPE_ATTRIBUTES = frozenset({"type", "elements"})
# Catalog refusals of a body that is not JSON at all.
_CATALOG_FORMAT_MESSAGES = ("invalid json",)


def parse_json(content: bytes) -> Any:
    """Decode a JSON body, or return None when it is empty or not JSON."""
    if not content or not content.strip():
        return None
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return None


def body_reports_failure(document: Any) -> bool:
    """True when a (2xx) body says the request failed, as ``{"status": "fail", ...}`` does."""
    if not isinstance(document, dict):
        return False
    status = document.get("status")
    return isinstance(status, str) and status.strip().lower() in {"fail", "failure", "error"}


def error_message(content: bytes, *, reason: str = "") -> str:
    """Return MoEngage's own message from an error body of any API family.

    Args:
        content: The raw response body.
        reason: The HTTP reason phrase, used when the body says nothing useful.

    Returns:
        A one-line message such as ``"MissingAttributeError (customer_id): customer_id not found
        in the payload"``; never empty.
    """
    document = parse_json(content)
    message = _from_document(document) if document is not None else None
    if message:
        return message
    text = content.decode("utf-8", errors="replace").strip() if content else ""
    if text:
        return _shorten(" ".join(text.split()))
    return reason or "no error message in the response"


def _from_document(document: Any) -> str | None:
    if isinstance(document, list) and document:
        return _from_document(document[0])
    if not isinstance(document, dict):
        return _shorten(str(document)) if document not in (None, "") else None
    error = document.get("error")
    if isinstance(error, dict):
        return _from_error_object(error)
    if isinstance(error, str) and error:
        return _join(error, _text(document.get("message")))
    if "error-code" in document:
        return _join(_text(document.get("error-code")), _text(document.get("message")))
    if "error_type" in document:
        return _join(_text(document.get("error_type")), _text(document.get("message")))
    if "title" in document or "description" in document:
        title = _text(document.get("title"))
        code = _text(document.get("code"))
        if code and title:
            title = f"{title} [{code}]"
        return _join(title, _text(document.get("description")))
    for key in ("message", "detail", "data"):
        value = _text(document.get(key))
        if value:
            return _shorten(value)
    return None


def _from_error_object(error: dict[str, Any]) -> str | None:
    # Data API errors use "type", campaigns and v5 use "code"; both may name an attribute/target.
    kind = _text(error.get("type")) or _text(error.get("code"))
    where = _text(error.get("attribute")) or _text(error.get("target"))
    if kind and where:
        kind = f"{kind} ({where})"
    elif where:
        kind = f"({where})"
    message = _text(error.get("message"))
    details = error.get("details")
    if isinstance(details, list):
        parts = []
        for detail in details[:5]:
            if isinstance(detail, dict):
                target = _text(detail.get("target"))
                text = _text(detail.get("message"))
                parts.append(f"{target}: {text}" if target and text else text or target)
        extra = "; ".join(part for part in parts if part)
        if extra and extra != message:
            message = f"{message} ({extra})" if message else extra
    return _join(kind, message)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip().lstrip("'").strip()
    return str(value)


def _join(kind: str, message: str) -> str | None:
    if kind and message:
        return _shorten(f"{kind}: {message}")
    return _shorten(kind or message) if kind or message else None


def _shorten(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def refuses_the_request_itself(status: int, content: bytes) -> bool:
    """True when an error answer refuses the request as built, not the data of one body.

    Such refusals: a missing ``Content-Type`` or an unsupported one (``415``), a body that is
    not JSON or not the endpoint's envelope (no ``type``, no ``elements``, an empty element
    list), a method or headers MoEngage does not take (``405``, ``431``), a workspace id or
    an account MoEngage refuses. A request built the same way would be refused the same way.
    An element MoEngage refuses (a bad element ``type``, a missing ``customer_id``...) is a
    refusal of that body's data, and False.

    Args:
        status: The HTTP status (4xx, or 2xx for a body saying ``"status": "fail"``).
        content: The raw response body.
    """
    if status in _REQUEST_STATUSES:
        return True
    kind, attribute, message = _error_fields(parse_json(content))
    if kind in _REQUEST_TYPES:
        return True
    if attribute in _ENVELOPE_ATTRIBUTES and "in elements" not in message:
        return True
    return kind == "invalid-request" and message.startswith(_CATALOG_FORMAT_MESSAGES)


def _error_fields(document: Any) -> tuple[str, str, str]:
    """``(type, attribute, message)`` of an error body, lower-cased; empty when absent."""
    if not isinstance(document, dict):
        return "", "", ""
    error = document.get("error")
    if isinstance(error, dict):
        kind = _text(error.get("type")) or _text(error.get("code"))
        fields = (kind, _text(error.get("attribute")), _text(error.get("message")))
    elif "error-code" in document:
        fields = (_text(document.get("error-code")), "", _text(document.get("message")))
    elif "error_type" in document:
        fields = (_text(document.get("error_type")), "", _text(document.get("message")))
    else:
        fields = (_text(document.get("title")), "", _text(document.get("description")))
    return fields[0].lower(), fields[1].lower(), fields[2].lower()
