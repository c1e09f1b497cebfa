"""Bulk import and the Track APIs: customers, events and devices, validated then applied.

* ``POST /v1/transition/{workspace_id}`` (bulk import): customer, event and device elements;
* ``POST /v1/customer/{app_id}`` (Track User), ``/v1/event/{workspace_id}`` (Track Event),
  ``/v1/device/{app_id}`` (Track Device): one payload each.

Structural problems are 400s; element-level ones are answered 200 and dropped with a reason
(``element_parsing``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.element_parsing import parse_customer, parse_device, parse_event
from moengage_pipelines.emulator.element_rules import REASON_TYPE_CASE
from moengage_pipelines.emulator.endpoints.data_requests import accepted, json_object, missing
from moengage_pipelines.emulator.http import ApiError, Response
from moengage_pipelines.emulator.parsed_elements import Drop, ElementError, Parsed
from moengage_pipelines.emulator.routing import Route, Router
from moengage_pipelines.emulator.state import EmulatorState

__all__ = ["register"]

ELEMENT_TYPES = ("customer", "event", "device")


def _element_error(call: Call, error: ElementError) -> ApiError:
    return call.fail(400, error.message, type=error.type, attribute=error.attribute)


def _apply(call: Call, parsed: Parsed) -> None:
    call.store.ingest(
        call.ws, parsed, endpoint=call.endpoint, request_id=call.request_id, now=call.now
    )


def _check_type(call: Call, document: dict[str, Any], expected: str, parsed: Parsed) -> bool:
    """True when the payload's ``type`` is right; a case-wrong type is dropped silently."""
    kind = document.get("type")
    if kind == expected:
        return True
    if isinstance(kind, str) and kind.lower() == expected:
        parsed.drops.append(Drop(0, "element", REASON_TYPE_CASE, document, _customer_id(document)))
        return False
    if kind is None:
        raise missing(call, "type")
    raise call.fail(400, f"type should be {expected}", type="AttributeError", attribute="type")


def _customer_id(element: Any) -> str | None:
    value = element.get("customer_id") if isinstance(element, dict) else None
    return value if isinstance(value, str) else None


# -- bulk import ------------------------------------------------------------------------------


def transition(call: Call) -> Response:
    """``POST /v1/transition/{workspace_id}``: customers, events and devices in one body."""
    document = json_object(call)
    if document.get("type") != "transition":
        if "type" not in document:
            raise missing(call, "type")
        raise call.fail(400, "type should be transition", type="AttributeError", attribute="type")
    elements = document.get("elements")
    if elements is None:
        raise missing(call, "elements")
    if not isinstance(elements, list):
        raise call.fail(
            400, "elements is expected to be List", type="AttributeError", attribute="elements"
        )
    if not elements:
        raise missing(call, "elements", "elements cannot be empty array")
    parsed = Parsed()
    users = events = 0
    # Read once: a body holds hundreds of elements.
    now, tolerance = call.now, call.settings.future_event_tolerance
    identity_resolution = call.settings.identity_resolution
    try:
        for index, element in enumerate(elements):
            kind = element.get("type") if type(element) is dict else None
            if kind == "event":
                actions = element.get("actions")
                events += len(actions) if type(actions) is list else 0
                parse_event(
                    element,
                    index,
                    parsed,
                    now=now,
                    future_tolerance=tolerance,
                    bulk=True,
                    identity_resolution=identity_resolution,
                )
            elif kind == "customer":
                users += 1
                parse_customer(element, index, parsed, identity_resolution=identity_resolution)
            elif kind == "device":
                parse_device(element, index, parsed, bulk=True)
            elif isinstance(kind, str) and kind.lower() in ELEMENT_TYPES:
                parsed.drops.append(
                    Drop(index, "element", REASON_TYPE_CASE, element, _customer_id(element))
                )
            else:
                raise ElementError(
                    "type in elements should be customer/event/device",
                    type="AttributeError",
                    attribute="type",
                )
    except ElementError as error:
        raise _element_error(call, error) from None
    # The budget is spent on what was sent (users = customer elements, events = actions),
    # whether or not single elements are later dropped.
    call.spend("transition_users", users, ("transition_events", events))
    _apply(call, parsed)
    return accepted(call)


# -- Track User / Event / Device --------------------------------------------------------------


def _track(
    call: Call,
    kind: str,
    parse: Callable[[dict[str, Any], Parsed], None],
    weight: Callable[[dict[str, Any]], int] = lambda document: 1,
) -> Response:
    """The Track APIs: one payload of ``kind``, its pool spent by ``weight``, then applied."""
    document = json_object(call)
    parsed = Parsed()
    if _check_type(call, document, kind, parsed):
        try:
            parse(document, parsed)
        except ElementError as error:
            raise _element_error(call, error) from None
    call.spend(call.pools[0], weight(document))
    _apply(call, parsed)
    return accepted(call)


def track_user(call: Call) -> Response:
    """``POST /v1/customer/{app_id}``."""
    identity_resolution = call.settings.identity_resolution
    return _track(
        call,
        "customer",
        lambda document, parsed: parse_customer(
            document, 0, parsed, identity_resolution=identity_resolution
        ),
    )


def _actions_weight(document: dict[str, Any]) -> int:
    actions = document.get("actions")
    return max(len(actions), 1) if isinstance(actions, list) else 1


def track_event(call: Call) -> Response:
    """``POST /v1/event/{workspace_id}``: the ``event`` pool is spent by action."""
    settings = call.settings
    return _track(
        call,
        "event",
        lambda document, parsed: parse_event(
            document,
            0,
            parsed,
            now=call.now,
            future_tolerance=settings.future_event_tolerance,
            bulk=False,
            identity_resolution=settings.identity_resolution,
        ),
        _actions_weight,
    )


def track_device(call: Call) -> Response:
    """``POST /v1/device/{app_id}``."""
    return _track(
        call, "device", lambda document, parsed: parse_device(document, 0, parsed, bulk=False)
    )


def register(router: Router, state: EmulatorState) -> None:
    """Add the bulk import and Track API routes."""
    settings = state.settings
    router.add(
        Route(
            "POST",
            "/v1/transition/{workspace_id}",
            "transition",
            transition,
            family="event",
            workspace_param="workspace_id",
            max_bytes=settings.transition_max_bytes,
            pools=("transition_users", "transition_events"),
            weighted=True,
        )
    )
    # Each spends the pool named like its endpoint, by weight.
    for pattern, endpoint, handler, family, workspace_param in (
        ("/v1/customer/{app_id}", "customer", track_user, "track_user", "app_id"),
        ("/v1/event/{workspace_id}", "event", track_event, "event", "workspace_id"),
        ("/v1/device/{app_id}", "device", track_device, "event", "app_id"),
    ):
        router.add(
            Route(
                "POST",
                pattern,
                endpoint,
                handler,
                family=family,
                workspace_param=workspace_param,
                max_bytes=settings.data_api_max_bytes,
                pools=(endpoint,),
                weighted=True,
            )
        )
