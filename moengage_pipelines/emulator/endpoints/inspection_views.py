"""The HTTP inspection API under ``/_emulator/`` (no MoEngage path starts with it).

* ``GET /_emulator/health``: ``{"status": "ok"}``.
* ``GET /_emulator/summary``: row counts.
* ``GET /_emulator/users`` (``customer_id`` to attributes), ``/_emulator/users/{customer_id}``;
  ``PATCH /_emulator/users/{customer_id}`` with a JSON object sets those attributes (null
  removes one), as an edit made in MoEngage's dashboard would.
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

from typing import Any

from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.request_body import parse_json
from moengage_pipelines.emulator.routing import Router, inspection_route
from moengage_pipelines.emulator.state import EmulatorState
from moengage_pipelines.errors import ConfigError

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
    return parse_json(call.request, call.family, call.request_id)


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


def register(router: Router, state: EmulatorState) -> None:
    """Add the inspection routes."""

    def add(method: str, path: str, handler: Any) -> None:
        router.add(inspection_route(method, path, handler))

    def view(getter: Any) -> Any:
        def handler(call: Call) -> Response:
            return call.ok(getter(call))

        return handler

    add("GET", "/health", view(lambda call: {"status": "ok"}))
    add("GET", "/summary", view(lambda call: call.inspect.summary(_ws(call))))
    add("GET", "/users", view(lambda call: call.inspect.users(_ws(call))))
    add("GET", "/devices", view(lambda call: call.inspect.devices(_ws(call))))
    add("GET", "/dropped", view(lambda call: call.inspect.dropped(_ws(call))))
    add("GET", "/merges", view(lambda call: call.inspect.merges(_ws(call))))
    add("GET", "/deletions", view(lambda call: call.inspect.deletions(_ws(call))))
    add("GET", "/counters", view(lambda call: call.inspect.counters()))
    add("GET", "/rate-usage", view(lambda call: call.inspect.rate_usage(_ws(call))))
    add(
        "GET",
        "/campaigns",
        view(
            lambda call: call.inspect.campaigns(
                _ws(call),
                include_api_triggered=call.request.query.get("include_api_triggered") == "true",
            )
        ),
    )
    add("GET", "/faults", view(lambda call: call.inspect.faults()))
    add("GET", "/blocked-users", view(lambda call: call.inspect.blocked_users(_ws(call))))
    add("GET", "/accounts", view(lambda call: call.inspect.account_states()))

    def user(call: Call) -> Response:
        found = call.inspect.user(call.params["customer_id"], _ws(call))
        if found is None:
            raise call.refuse("not_found")
        return call.ok(found)

    def edit_user(call: Call) -> Response:
        body = _body(call)
        if not isinstance(body, dict):
            raise call.fail(
                400,
                "the body must be a JSON object of attributes",
                type="InvalidParams",
                attribute="attributes",
            )
        try:
            attributes = call.inspect.set_user_attributes(
                call.params["customer_id"], body, _ws(call)
            )
        except KeyError:
            raise call.refuse("not_found") from None
        return call.ok(attributes)

    def events(call: Call) -> Response:
        return call.ok(
            call.inspect.events(
                _ws(call),
                customer_id=call.request.query.get("customer_id"),
                limit=_int(call, "limit"),
                offset=_int(call, "offset") or 0,
            )
        )

    def replace_faults(call: Call) -> Response:
        call.state.faults.set(_rules(call, _body(call)))
        return call.ok(call.inspect.faults())

    def add_fault(call: Call) -> Response:
        (rule,) = _rules(call, [_body(call)])
        call.state.faults.add(rule)
        return call.ok(call.inspect.faults())

    def clear_faults(call: Call) -> Response:
        call.state.faults.clear()
        return call.ok([])

    def set_account_state(call: Call) -> Response:
        body = _body(call)
        state = body.get("state") if isinstance(body, dict) else None
        try:
            call.state.accounts.set(state, _ws(call))  # type: ignore[arg-type]
        except ConfigError as exc:
            raise call.fail(400, str(exc), type="InvalidParams", attribute="state") from None
        return call.ok(call.inspect.account_states())

    def reset(call: Call) -> Response:
        call.inspect.reset()
        return call.ok({"status": "reset"})

    add("GET", "/users/{customer_id}", user)
    add("PATCH", "/users/{customer_id}", edit_user)
    add("GET", "/events", events)
    add("PUT", "/faults", replace_faults)
    add("POST", "/faults", add_fault)
    add("DELETE", "/faults", clear_faults)
    add("PUT", "/accounts", set_account_state)
    add("POST", "/reset", reset)
