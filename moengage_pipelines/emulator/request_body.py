"""Request bodies: Content-Type, byte limit and JSON parsing, refused in a family's envelope."""

from __future__ import annotations

from typing import Any

import orjson

from moengage_pipelines.emulator.envelope_table import Family
from moengage_pipelines.emulator.envelopes import render
from moengage_pipelines.emulator.http import ApiError, Request

__all__ = ["check_content_type", "check_size", "parse_json", "size_text"]


def size_text(limit: int) -> str:
    """A byte limit as MoEngage words it: ``128 KB``, ``5 MB``."""
    return (
        f"{round(limit / 1024)} KB" if limit < 1024 * 1024 else f"{round(limit / 1024 / 1024)} MB"
    )


def check_content_type(request: Request, family: Family, request_id: str) -> None:
    """Require ``Content-Type: application/json`` (parameters such as a charset allowed).

    Raises:
        ApiError: 400 when the header is missing, 415 when it names another type.
    """
    content_type = request.header("content-type")
    if content_type is None or not content_type.strip():
        raise ApiError(render(family, "content_type_missing", request_id))
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(render(family, "content_type_unsupported", request_id))


def check_size(request: Request, family: Family, request_id: str, max_bytes: int | None) -> None:
    """Refuse a body over ``max_bytes`` (None: no limit).

    Raises:
        ApiError: 413.
    """
    if max_bytes is not None and len(request.body) > max_bytes:
        raise ApiError(render(family, "payload_too_large", request_id, limit=size_text(max_bytes)))


def parse_json(request: Request, family: Family, request_id: str) -> Any:
    """The body parsed as JSON.

    Raises:
        ApiError: 400 when the body is empty or is not UTF-8 JSON.
    """
    if not request.body.strip():
        raise ApiError(render(family, "body_not_json", request_id))
    try:
        return orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise ApiError(render(family, "malformed_json", request_id)) from None
