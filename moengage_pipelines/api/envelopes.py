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
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["body_reports_failure", "error_message", "parse_json"]

_MAX_TEXT = 300


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
