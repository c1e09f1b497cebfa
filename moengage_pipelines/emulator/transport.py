"""In-process ``httpx`` transports: real HTTP semantics, no sockets.

Faults behave as a client would see them on the network: a ``reset`` fault applies the
request and then raises ``httpx.ReadError`` (the answer is lost); a ``timeout`` fault raises
``httpx.ReadTimeout`` at once without applying anything; latency sleeps.
"""

from __future__ import annotations

import asyncio
import time

import httpx

from moengage_pipelines.emulator.http import Delivery, Request, RequestHandler, Response

__all__ = ["AsyncEmulatorTransport", "EmulatorTransport"]


def _to_request(request: httpx.Request, body: bytes) -> Request:
    return Request.build(
        request.method, request.url.path, request.url.query, request.headers.raw, body
    )


def _to_httpx(response: Response, request: httpx.Request) -> httpx.Response:
    if response.delivery is Delivery.RESET:
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    if response.delivery is Delivery.TIMEOUT:
        raise httpx.ReadTimeout("The read operation timed out", request=request)
    return httpx.Response(
        response.status, headers=response.headers, content=response.body, request=request
    )


class EmulatorTransport(httpx.BaseTransport):
    """Synchronous transport calling the emulator's handler (``Emulator.handle``) directly."""

    def __init__(self, handle: RequestHandler) -> None:
        self._handle = handle

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request in-process."""
        body = request.read()
        response = self._handle(_to_request(request, body))
        if response.delay > 0:
            time.sleep(response.delay)
        return _to_httpx(response, request)


class AsyncEmulatorTransport(httpx.AsyncBaseTransport):
    """Asynchronous transport calling the emulator's handler (``Emulator.handle``) directly."""

    def __init__(self, handle: RequestHandler) -> None:
        self._handle = handle

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer one request in-process."""
        body = await request.aread()
        response = self._handle(_to_request(request, body))
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        return _to_httpx(response, request)
