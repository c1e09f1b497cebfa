"""The ASGI application: wire bytes in, the shared handler, wire bytes out."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any

from moengage_pipelines.emulator.http import Delivery, Request, RequestHandler

__all__ = ["TRANSPORT_EXTENSION", "AsgiApp"]

# Scope extension under which the emulator's server exposes the connection's transport, so
# a fault can drop the connection instead of answering.
TRANSPORT_EXTENSION = "moengage_pipelines.emulator.transport"
# Bodies past this are not buffered further: they are over every limit anyway.
_MAX_BUFFERED_BODY = 64 * 1024 * 1024


class _DroppedConnectionError(Exception):
    """Raised to make a server without the transport extension close the connection."""


class AsgiApp:
    """ASGI 3 application around the emulator's request handler (``Emulator.handle``)."""

    def __init__(self, handle: RequestHandler) -> None:
        self._handle = handle

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            if size <= _MAX_BUFFERED_BODY:
                # Past this size the body is over every limit; the rest is read and discarded.
                chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
        request = Request.build(
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            scope["headers"],
            b"".join(chunks),
        )
        response = self._handle(request)
        if response.delay > 0:
            await asyncio.sleep(response.delay)
        if response.delivery is Delivery.TIMEOUT:
            await self._hang_then_drop(scope, receive, response.hang)
            return
        if response.delivery is Delivery.RESET:
            await self._drop(scope)
            return
        headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
        ]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _hang_then_drop(self, scope: dict[str, Any], receive: Any, seconds: float) -> None:
        # Wait for the client to give up (it disconnects) or for the hold time to pass.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._until_disconnect(receive), timeout=seconds)
        await self._drop(scope)

    @staticmethod
    async def _until_disconnect(receive: Any) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    @staticmethod
    async def _drop(scope: dict[str, Any]) -> None:
        transport = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
        if transport is None:
            # Another server: raising after nothing was sent makes it close the connection
            # (uvicorn answers 500 instead; use ``serve`` for a true drop).
            raise _DroppedConnectionError("connection dropped by an injected fault")
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: closing sends a TCP reset, like a proxy dropping the connection.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
        # Let the server notice the disconnect before the application returns, so it does
        # not try to answer on the dead connection.
        await asyncio.sleep(0)
        await asyncio.sleep(0)
