"""The HTTP inspection API under ``/_emulator/`` (no MoEngage path starts with it).

* ``GET /_emulator/health``: ``{"status": "ok"}``.
* ``GET /_emulator/summary``: row counts.
* ``GET /_emulator/users`` (``customer_id`` to attributes), ``/_emulator/users/{customer_id}``.
* ``GET /_emulator/events`` (``customer_id``, ``limit``, ``offset`` query parameters).
* ``GET /_emulator/devices``, ``/_emulator/dropped``, ``/_emulator/merges``,
  ``/_emulator/deletions``.
* ``GET /_emulator/counters``, ``/_emulator/rate-usage``, ``/_emulator/campaigns``
  (``?include_api_triggered=true`` adds the API-triggered campaigns).
* ``GET /_emulator/faults``; ``PUT`` replaces the rules (a JSON list), ``POST`` adds one rule
  (an object), ``DELETE`` removes all.
* ``GET /_emulator/blocked-users``: users blocked for a 1,001st device.
* ``GET /_emulator/accounts``: workspace to account state; ``PUT`` with ``{"state": ...}``
  sets the state of ``?workspace=`` (default: the main one).
* ``POST /_emulator/reset``: forget received data, counters and rate usage.

The catalog and report families add their own views (``/_emulator/catalogs``,
``/_emulator/reports``). Every view takes ``?workspace=`` (default: the main workspace). No
authentication: the emulator is a local test tool.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from moengage_pipelines.emulator.envelopes import DATA
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.http import ApiError, Response
from moengage_pipelines.emulator.routing import Router, inspection_route
from moengage_pipelines.errors import ConfigError

if TYPE_CHECKING:
    from moengage_pipelines.emulator.core import Call, Emulator

__all__ = ["register"]


def _ws(call: Call) -> str | None:
    return call.request.query.get("workspace") or None


def _int(call: Call, name: str) -> int | None:
    raw = call.request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise call.fail(
            400, f"{name} must be an integer", type="InvalidParams", attribute=name
        ) from None
    if value < 0:
        raise call.fail(400, f"{name} must not be negative", type="InvalidParams", attribute=name)
    return value


def _body(call: Call) -> Any:
    if not call.request.body.strip():
        raise ApiError(DATA.body_not_json(call.request_id))
    try:
        return orjson.loads(call.request.body)
    except orjson.JSONDecodeError:
        raise ApiError(DATA.malformed_json(call.request_id)) from None


def _rules(call: Call, items: Any) -> list[FaultRule]:
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise call.fail(
            400,
            "fault rules must be a JSON list of objects",
            type="InvalidParams",
            attribute="faults",
        )
    try:
        return [FaultRule.from_dict(item) for item in items]
    except ConfigError as exc:
        raise call.fail(400, str(exc), type="InvalidParams", attribute="faults") from None


def register(router: Router, emulator: Emulator) -> None:
    """Add the inspection routes."""

    def add(method: str, path: str, handler: Any) -> None:
        router.add(inspection_route(method, path, handler))

    def view(getter: Any) -> Any:
        def handler(call: Call) -> Response:
            return call.ok(getter(call))

        return handler

    add("GET", "/health", view(lambda call: {"status": "ok"}))
    add("GET", "/summary", view(lambda call: call.emulator.inspect.summary(_ws(call))))
    add("GET", "/users", view(lambda call: call.emulator.inspect.users(_ws(call))))
    add("GET", "/devices", view(lambda call: call.emulator.inspect.devices(_ws(call))))
    add("GET", "/dropped", view(lambda call: call.emulator.inspect.dropped(_ws(call))))
    add("GET", "/merges", view(lambda call: call.emulator.inspect.merges(_ws(call))))
    add("GET", "/deletions", view(lambda call: call.emulator.inspect.deletions(_ws(call))))
    add("GET", "/counters", view(lambda call: call.emulator.inspect.counters()))
    add("GET", "/rate-usage", view(lambda call: call.emulator.inspect.rate_usage(_ws(call))))
    add(
        "GET",
        "/campaigns",
        view(
            lambda call: call.emulator.inspect.campaigns(
                _ws(call),
                include_api_triggered=call.request.query.get("include_api_triggered") == "true",
            )
        ),
    )
    add("GET", "/faults", view(lambda call: call.emulator.inspect.faults()))
    add("GET", "/blocked-users", view(lambda call: call.emulator.inspect.blocked_users(_ws(call))))
    add("GET", "/accounts", view(lambda call: call.emulator.inspect.account_states()))

    def user(call: Call) -> Response:
        found = call.emulator.inspect.user(call.params["customer_id"], _ws(call))
        if found is None:
            raise ApiError(DATA.not_found(call.request_id))
        return call.ok(found)

    def events(call: Call) -> Response:
        return call.ok(
            call.emulator.inspect.events(
                _ws(call),
                customer_id=call.request.query.get("customer_id"),
                limit=_int(call, "limit"),
                offset=_int(call, "offset") or 0,
            )
        )

    def replace_faults(call: Call) -> Response:
        call.emulator.faults.set(_rules(call, _body(call)))
        return call.ok(call.emulator.inspect.faults())

    def add_fault(call: Call) -> Response:
        (rule,) = _rules(call, [_body(call)])
        call.emulator.faults.add(rule)
        return call.ok(call.emulator.inspect.faults())

    def clear_faults(call: Call) -> Response:
        call.emulator.faults.clear()
        return call.ok([])

    def set_account_state(call: Call) -> Response:
        body = _body(call)
        state = body.get("state") if isinstance(body, dict) else None
        try:
            call.emulator.accounts.set(state, _ws(call))  # type: ignore[arg-type]
        except ConfigError as exc:
            raise call.fail(400, str(exc), type="InvalidParams", attribute="state") from None
        return call.ok(call.emulator.inspect.account_states())

    def reset(call: Call) -> Response:
        call.emulator.inspect.reset()
        return call.ok({"status": "reset"})

    add("GET", "/users/{customer_id}", user)
    add("GET", "/events", events)
    add("PUT", "/faults", replace_faults)
    add("POST", "/faults", add_fault)
    add("DELETE", "/faults", clear_faults)
    add("PUT", "/accounts", set_account_state)
    add("POST", "/reset", reset)
