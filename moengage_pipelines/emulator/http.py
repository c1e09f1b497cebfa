"""The emulator's own request and response values, shared by the ASGI app and the transport."""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

import orjson

__all__ = [
    "ApiError",
    "Delivery",
    "Request",
    "RequestHandler",
    "Response",
    "json_response",
    "new_request_id",
]

_ID_ALPHABET = string.ascii_letters
_ids = random.Random()


def new_request_id() -> str:
    """A short random id like MoEngage's ``request_id`` (eight letters, e.g. ``ZbPXtKFL``)."""
    return "".join(_ids.choices(_ID_ALPHABET, k=8))


@dataclass(slots=True)
class Request:
    """One HTTP request as the emulator sees it.

    Attributes:
        method: Upper-case method.
        path: Decoded path without the query string.
        query: Query parameters (last value wins).
        headers: Lower-case header names to values (repeated headers joined by ", ").
        body: The raw body bytes.
        header_bytes: Size of the header block, for the header-size limit.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes = b""
    header_bytes: int = 0

    @classmethod
    def build(
        cls,
        method: str,
        path: str,
        query_string: bytes | str,
        raw_headers: Iterable[tuple[bytes | str, bytes | str]],
        body: bytes,
    ) -> Request:
        """Build from wire pieces (ASGI scope or httpx request)."""
        headers: dict[str, str] = {}
        size = 0
        for raw_name, raw_value in raw_headers:
            name = raw_name.decode("latin-1") if isinstance(raw_name, bytes) else raw_name
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            size += len(name) + len(value) + 4
            name = name.lower()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        if isinstance(query_string, bytes):
            query_string = query_string.decode("latin-1")
        query = dict(parse_qsl(query_string, keep_blank_values=True)) if query_string else {}
        return cls(method.upper(), path or "/", query, headers, body, size)

    def header(self, name: str) -> str | None:
        """A header's value by case-insensitive name."""
        return self.headers.get(name.lower())


class Delivery(Enum):
    """How a response reaches the client."""

    NORMAL = "normal"
    # The data was applied but the connection drops before the answer: the client sees a
    # transport error and cannot know the request succeeded.
    RESET = "reset"
    # The server never answers (not applied); the client times out.
    TIMEOUT = "timeout"


@dataclass(slots=True)
class Response:
    """What the emulator answers.

    Attributes:
        status: HTTP status.
        body: Body bytes.
        headers: Extra headers (content type included).
        delay: Seconds to wait before answering (injected latency).
        delivery: Whether the answer is delivered, lost after applying, or never produced.
        hang: Seconds the real server holds a timed-out request before dropping it.
    """

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    delivery: Delivery = Delivery.NORMAL
    hang: float = 0.0

    def json(self) -> Any:
        """The body parsed as JSON."""
        return orjson.loads(self.body)


def json_response(status: int, document: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """A JSON response."""
    return Response(
        status,
        orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS),
        [("content-type", "application/json"), *headers],
    )


RequestHandler = Callable[[Request], Response]
"""What answers a request: ``Emulator.handle``, run by the ASGI app and the transports."""


class ApiError(Exception):
    """Raised inside the emulator to answer with an error response at once."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response
