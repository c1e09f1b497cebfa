"""A real HTTP server for the emulator: uvicorn on a background thread."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from moengage_pipelines.emulator.asgi import TRANSPORT_EXTENSION
from moengage_pipelines.emulator.core import Emulator

__all__ = ["EmulatorServer", "serve"]

_STARTUP_TIMEOUT = 15.0


class _ExposingH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol that hands the connection's transport to the app.

    The emulator needs it to drop a connection (a fault) instead of answering; ASGI has no
    message for that.
    """

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        inner = self.app

        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope.setdefault("extensions", {})[TRANSPORT_EXTENSION] = transport
            await inner(scope, receive, send)

        self.app = app


class EmulatorServer:
    """A running loopback server.

    Attributes:
        url: Base URL, e.g. ``http://127.0.0.1:54321``.
        emulator: The emulator it serves.
    """

    def __init__(self, url: str, emulator: Emulator) -> None:
        self.url = url
        self.emulator = emulator

    def __repr__(self) -> str:
        return f"EmulatorServer(url={self.url!r})"


def _config(emulator: Emulator, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        emulator.asgi_app,
        host=host,
        port=port,
        http=_ExposingH11Protocol,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        # Let oversized headers reach the app, which answers them in MoEngage's shape.
        h11_max_incomplete_event_size=1024 * 1024,
        timeout_keep_alive=30,
    )


@contextmanager
def serve(
    emulator: Emulator, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> Iterator[str]:
    """Run the emulator on a real socket for the duration of a ``with`` block.

    Args:
        emulator: The emulator to serve.
        host: Interface to bind.
        port: Port, 0 for a free one.
        log_level: uvicorn's log level.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:54321``.

    Raises:
        RuntimeError: If the server does not start.
    """
    server = uvicorn.Server(_config(emulator, host, port, log_level))
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:  # reported to the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name="moengage-emulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not server.started:
        if failure or not thread.is_alive():
            raise RuntimeError(
                f"the emulator server did not start on {host}:{port}: {failure[:1] or 'exited'}"
            )
        if time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(
                f"the emulator server did not start on {host}:{port} in {_STARTUP_TIMEOUT:g} s"
            )
        time.sleep(0.01)
    bound_port = server.servers[0].sockets[0].getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    try:
        yield f"http://{shown_host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
