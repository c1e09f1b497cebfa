"""Builders shared by the API and delivery tests: settings, elements and bodies."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import budget_for_workspace
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.server import serve
from moengage_pipelines.emulator.settings import EmulatorSettings
from moengage_pipelines.push.body import Body

WORKSPACE = "TEST_WORKSPACE"
DATA_KEY = "test-data-key"
CAMPAIGN_KEY = "test-campaign-key"


def settings(base_url: str | None = None, **changes: Any) -> MoEngageSettings:
    values: dict[str, Any] = {
        "workspace_id": WORKSPACE,
        "data_api_key": DATA_KEY,
        "campaign_api_key": CAMPAIGN_KEY,
        "base_url": base_url,
    }
    values.update(changes)
    return MoEngageSettings(**values)


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
    emulator_settings = emulator_settings or EmulatorSettings()
    changes = credentials or {}
    if kind == "in_process":
        with Emulator(emulator_settings) as emulator:
            client_settings = settings(**changes)
            with MoEngageClient(
                client_settings, transport=emulator.transport(), **client_options
            ) as client:
                yield emulator, client
        return
    if kind != "loopback":
        raise ValueError(f"unknown transport {kind!r}; expected one of {TRANSPORTS}")
    with running(emulator_settings) as (emulator, url):
        client_settings = settings(url, **changes)
        client_options.setdefault(
            "budget", budget_for_workspace(client_settings, store="memory")
        )
        with MoEngageClient(client_settings, **client_options) as client:
            yield emulator, client
