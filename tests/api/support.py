"""Builders shared by the API and delivery tests: settings, elements and bodies."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import orjson

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.pytest_plugin import client_for
from moengage_pipelines.emulator.server import EmulatorServer, serve
from moengage_pipelines.emulator.settings import EmulatorSettings
from moengage_pipelines.push.pack.body import Body

WORKSPACE = "TEST_WORKSPACE"
DATA_KEY = "test-data-key"
CAMPAIGN_KEY = "test-campaign-key"

FAST_RETRY = RetryConfig(backoff_initial=0.001, jitter=0.0, max_attempts=4, max_elapsed=30)


def settings(base_url: str | None = None, **changes: Any) -> MoEngageSettings:
    values: dict[str, Any] = {
        "workspace_id": WORKSPACE,
        "data_api_key": DATA_KEY,
        "campaign_api_key": CAMPAIGN_KEY,
        "base_url": base_url,
    }
    values.update(changes)
    return MoEngageSettings(**values)


def in_process(emulator: Emulator, **options: object) -> MoEngageClient:
    """A client reaching ``emulator`` in-process, retrying fast unless ``retry`` is given."""
    options.setdefault("retry", FAST_RETRY)
    return MoEngageClient(settings(), transport=emulator.transport(), **options)  # type: ignore[arg-type]


def transition_requests(emulator: Emulator) -> int:
    """Bulk-import requests the emulator received."""
    return emulator.inspect.counters().get("transition", {}).get("requests", 0)


def customer(customer_id: str, **attributes: Any) -> dict[str, Any]:
    return {"type": "customer", "customer_id": customer_id, "attributes": attributes or {"n": 1}}


def event(customer_id: str, *actions: str) -> dict[str, Any]:
    return {
        "type": "event",
        "customer_id": customer_id,
        "actions": [{"action": name, "attributes": {"k": 1}} for name in actions],
    }


def transition_body(elements: Sequence[dict[str, Any]], first_row: int = 0) -> Body:
    payload = orjson.dumps({"type": "transition", "elements": list(elements)})
    users = sum(1 for e in elements if e["type"] == "customer")
    events = sum(len(e.get("actions", ())) for e in elements if e["type"] == "event")
    return Body("transition", payload, users=users, events=events, first_row=first_row)


def user_bodies(count: int, per_body: int, prefix: str = "u") -> Iterator[Body]:
    """``count`` bodies of ``per_body`` customers each, ids ``{prefix}{row}``."""
    for index in range(count):
        first = index * per_body
        yield transition_body(
            [customer(f"{prefix}{row}") for row in range(first, first + per_body)], first
        )


@contextmanager
def running(emulator_settings: EmulatorSettings) -> Iterator[tuple[Emulator, str]]:
    """An emulator with custom settings served on a free loopback port."""
    with Emulator(emulator_settings) as emulator, serve(emulator) as url:
        yield emulator, url


TRANSPORTS = ("in_process", "loopback")
"""How a test reaches the emulator: its in-process httpx transport, or a real uvicorn server on
a loopback socket (HTTP framing, headers and connection handling as a real client sees them)."""


@contextmanager
def emulated(
    kind: str,
    emulator_settings: EmulatorSettings | None = None,
    *,
    credentials: dict[str, Any] | None = None,
    **client_options: Any,
) -> Iterator[tuple[Emulator, MoEngageClient]]:
    """An emulator and a client reaching it the ``kind`` way (one of ``TRANSPORTS``).

    Args:
        kind: ``"in_process"`` or ``"loopback"``.
        emulator_settings: The emulator's settings (default ones otherwise).
        credentials: Changes to the client's ``MoEngageSettings`` (e.g. a wrong key).
        **client_options: Passed to ``MoEngageClient`` (``retry``, ``budget``...). Without a
            ``budget``, both kinds get a fresh in-memory one with MoEngage's limits.
    """
    if kind not in TRANSPORTS:
        raise ValueError(f"unknown transport {kind!r}; expected one of {TRANSPORTS}")
    with Emulator(emulator_settings or EmulatorSettings()) as emulator, ExitStack() as stack:
        target: Emulator | EmulatorServer = emulator
        if kind == "loopback":
            target = EmulatorServer(stack.enter_context(serve(emulator)), emulator)
        with client_for(target, **(credentials or {}), **client_options) as client:
            yield emulator, client
