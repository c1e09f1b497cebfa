"""Data APIs: bulk import, Track User/Event/Device, Get User (export), Delete User, Merge Users."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from moengage_pipelines.emulator.elements import (
    REASON_TYPE_CASE,
    Drop,
    ElementError,
    Parsed,
    parse_customer,
    parse_device,
    parse_event,
)
from moengage_pipelines.emulator.envelopes import DataEnvelope, MergeEnvelope
from moengage_pipelines.emulator.http import ApiError, Response
from moengage_pipelines.emulator.routing import Route, Router

if TYPE_CHECKING:
    from moengage_pipelines.emulator.core import Call, Emulator

__all__ = ["ACCEPTED_MESSAGE", "register"]

ACCEPTED_MESSAGE = "Your request has been accepted and will be processed soon."
EXPORT_MAX_USERS = 20
MERGE_MAX_PAIRS = 50

# Track User's reference words two account errors its own way; Get User keeps the table's.
TRACK_USER_ENVELOPE = DataEnvelope(
    account_answers=(
        (
            "temporarily_suspended",
            403,
            "Account Temporarily Suspended",
            "Your account is temporarily suspended due to payment issues.",
        ),
        ("blocked", 403, "BlockedClient", "Your account is blocked. Please contact MoEngage team."),
    )
)
USER_ENVELOPE = DataEnvelope()
MERGE_ENVELOPE = MergeEnvelope()
EVENT_ENVELOPE = DataEnvelope(
    rate_limit_message="Rate limits for customers exceeded. Please Try After Some Time",
    rate_limit_type="Rate Limits Exceeded",
    unsupported_message="Content type is not supported",
    unsupported_type="Unsupported media type",
)
# Delete User documents one 403 for a blocked or suspended account and an invalid app id.
DELETE_ENVELOPE = DataEnvelope(
    title_style_throttling=True,
    account_answers=tuple(
        (state, 403, "InvalidParams", "given app_id is invalid/blocked")
        for state in ("suspended", "temporarily_suspended", "blocked")
    ),
    invalid_app_id_answer=(403, "given app_id is invalid/blocked"),
)
IDENTITY_RESOLUTION_MERGE = (
    "Merge User API is not available for workspaces with Identity Resolution enabled"
)
ELEMENT_TYPES = ("customer", "event", "device")


def _accepted(call: Call) -> Response:
    return call.ok(
        {"status": "success", "message": ACCEPTED_MESSAGE, "request_id": call.request_id}
    )


def _object(call: Call) -> dict[str, Any]:
    document = call.json()
    if not isinstance(document, dict):
        raise ApiError(call.route.envelope.body_not_json(call.request_id))
    return document


def _missing(call: Call, attribute: str, message: str | None = None) -> ApiError:
    """The Data APIs' 400 ``MissingAttributeError`` for a field that is absent or ill-typed."""
    message = message or f"{attribute} is not found in the payload"
    return call.fail(400, message, type="MissingAttributeError", attribute=attribute)


def _bounded_list(
    call: Call, container: dict[str, Any], name: str, maximum: int, limit_attribute: str
) -> list[Any]:
    """A field that must be a non-empty list of at most ``maximum`` entries."""
    value = container.get(name)
    if value is None:
        raise _missing(call, name)
    if not isinstance(value, list) or not value:
        raise _missing(call, name, f"{name} is expected to be a non-empty List")
    if len(value) > maximum:
        raise call.fail(
            400, f"max limit allowed is {maximum}", type="LimitBreached", attribute=limit_attribute
        )
    return value


def _element_error(call: Call, error: ElementError) -> ApiError:
    return call.fail(400, error.message, type=error.type, attribute=error.attribute)


def _apply(call: Call, parsed: Parsed) -> None:
    call.store.ingest(
        call.ws, parsed, endpoint=call.route.endpoint, request_id=call.request_id, now=call.now
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
        raise _missing(call, "type")
    raise call.fail(400, f"type should be {expected}", type="AttributeError", attribute="type")


def _customer_id(element: Any) -> str | None:
    value = element.get("customer_id") if isinstance(element, dict) else None
    return value if isinstance(value, str) else None


# -- bulk import ------------------------------------------------------------------------------


def transition(call: Call) -> Response:
    """``POST /v1/transition/{workspace_id}``: customers, events and devices in one body."""
    document = _object(call)
    if document.get("type") != "transition":
        if "type" not in document:
            raise _missing(call, "type")
        raise call.fail(400, "type should be transition", type="AttributeError", attribute="type")
    elements = document.get("elements")
    if elements is None:
        raise _missing(call, "elements")
    if not isinstance(elements, list):
        raise call.fail(
            400, "elements is expected to be List", type="AttributeError", attribute="elements"
        )
    if not elements:
        raise _missing(call, "elements", "elements cannot be empty array")
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
    return _accepted(call)


# -- Track User / Event / Device --------------------------------------------------------------


def _track(
    call: Call,
    kind: str,
    parse: Callable[[dict[str, Any], Parsed], None],
    weight: Callable[[dict[str, Any]], int] = lambda document: 1,
) -> Response:
    """The Track APIs: one payload of ``kind``, its pool spent by ``weight``, then applied."""
    document = _object(call)
    parsed = Parsed()
    if _check_type(call, document, kind, parsed):
        try:
            parse(document, parsed)
        except ElementError as error:
            raise _element_error(call, error) from None
    call.spend(call.route.pools[0], weight(document))
    _apply(call, parsed)
    return _accepted(call)


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


# -- Get User (export) ------------------------------------------------------------------------


def export_users(call: Call) -> Response:
    """``POST /v1/customers/export?app_id=``: look users up by ``customer_id`` or MoEngage id.

    ``identifiers`` is read inside ``data`` (the spec) or at the root (the live page's curl).
    """
    document = _object(call)
    data = document.get("data")
    if data is not None and not isinstance(data, dict):
        raise _missing(call, "data", "data is expected to be Object")
    container = data if data is not None else document
    if data is None and "identifiers" not in document:
        raise _missing(call, "data")
    identifiers = _bounded_list(call, container, "identifiers", EXPORT_MAX_USERS, "users")
    fields = container.get("user_fields_to_export")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise _missing(
            call, "user_fields_to_export", "user_fields_to_export is expected to be List"
        )
    wanted: list[tuple[str, str]] = []
    for item in identifiers:
        kind = item.get("identifier_type") if isinstance(item, dict) else None
        value = item.get("identifier") if isinstance(item, dict) else None
        if kind not in ("customer_id", "id", "moengage_id"):
            raise _missing(
                call, "identifier_type", "identifier_type is expected to be one of customer_id, id"
            )
        if not isinstance(value, str) or not value:
            raise _missing(
                call, "identifier", "identifier is expected to be String or Unicode String."
            )
        wanted.append((kind, value))
    call.spend("customers_export", len(wanted))
    users, not_found = [], []
    for kind, value in wanted:
        lookup = "customer_id" if kind == "customer_id" else "id"
        user = call.store.find_users(call.ws, lookup, [value]).get(value)
        if user is None:
            not_found.append({"identifier_type": kind, "identifier": value})
            continue
        everything = {**user.attributes, "customer_id": user.customer_id}
        selected = (
            everything if fields is None else {f: everything[f] for f in fields if f in everything}
        )
        users.append({"user_attributes": {**selected, "id": user.moengage_id}})
    return call.ok(
        {
            "status": "success",
            "type": "export_users",
            "data": {"users_not_found": not_found, "users": users},
        }
    )


# -- Delete User -----------------------------------------------------------------------------


def delete_user(call: Call) -> Response:
    """``POST /v1/customer/delete?app_id=``: one user per request.

    MoEngage deletes after a 24-hour buffer; the emulator deletes at once (the user leaves
    ``users()``, the deletion is listed by ``deletions()``), events stay but reach no user.
    """
    document = _object(call)
    kind = document.get("identity_type")
    value = document.get("identity_value")
    if kind is None:
        raise _missing(call, "identity_type")
    if kind not in ("customer_id", "id", "moengage_id"):
        raise _missing(
            call, "identity_type", "identity_type is expected to be one of customer_id, id"
        )
    if not isinstance(value, str) or not value.strip():
        raise _missing(
            call, "identity_value", "identity_value is expected to be String or Unicode String."
        )
    lookup = "customer_id" if kind == "customer_id" else "id"
    user = call.store.find_users(call.ws, lookup, [value]).get(value)
    if user is None:
        label = "customer id" if kind == "customer_id" else "moengage id"
        raise call.fail(400, f"User doesn't exists with {label} {value}", type="Not Found")
    call.store.delete_user(call.ws, user, request_id=call.request_id, now=call.now)
    return _accepted(call)


# -- Merge Users -------------------------------------------------------------------------------


def merge_users(call: Call) -> Response:
    """``POST /v1/customer/merge?app_id=``: up to 50 pairs; a failing pair is skipped.

    MoEngage's Merge Users does not work when Identity Resolution is enabled: such a
    workspace gets a 400 before anything is read.
    """
    if call.settings.identity_resolution:
        raise call.fail(400, IDENTITY_RESOLUTION_MERGE, type="InvalidParams")
    document = _object(call)
    pairs = _bounded_list(call, document, "merge_data", MERGE_MAX_PAIRS, "merge_data")
    for pair in pairs:
        if not isinstance(pair, dict):
            raise _missing(call, "merge_data", "merge_data is expected to be a List of Objects")
        for name in ("merged_user", "retained_user"):
            if not isinstance(pair.get(name), str) or not pair[name]:
                raise _missing(call, name, f"{name} is expected to be String or Unicode String.")
    call.spend("customer_merge", len(pairs))
    skipped = []
    for index, pair in enumerate(pairs):
        reason = call.store.merge_users(
            call.ws,
            pair["merged_user"],
            pair["retained_user"],
            request_id=call.request_id,
            now=call.now,
        )
        if reason is not None:
            skipped.append(Drop(index, "pair", reason, pair, pair["merged_user"]))
    call.store.record_drops(
        call.ws, skipped, endpoint=call.route.endpoint, request_id=call.request_id, now=call.now
    )
    return call.ok({"status": "success", "operation": "created"})


def register(router: Router, emulator: Emulator) -> None:
    """Add the Data API routes."""
    settings = emulator.settings
    router.add(
        Route(
            "POST",
            "/v1/transition/{workspace_id}",
            "transition",
            transition,
            envelope=EVENT_ENVELOPE,
            workspace_param="workspace_id",
            max_bytes=settings.transition_max_bytes,
            pools=("transition_users", "transition_events"),
            weighted=True,
        )
    )
    # Each of these spends the pool named like its endpoint; the workspace parameter is a path
    # placeholder or, when the path has none, a query parameter. Only Delete User spends per
    # request rather than by weight.
    for pattern, endpoint, handler, envelope, workspace_param in (
        ("/v1/customer/{app_id}", "customer", track_user, TRACK_USER_ENVELOPE, "app_id"),
        ("/v1/event/{workspace_id}", "event", track_event, EVENT_ENVELOPE, "workspace_id"),
        ("/v1/device/{app_id}", "device", track_device, EVENT_ENVELOPE, "app_id"),
        ("/v1/customers/export", "customers_export", export_users, USER_ENVELOPE, "app_id"),
        ("/v1/customer/delete", "customer_delete", delete_user, DELETE_ENVELOPE, "app_id"),
        ("/v1/customer/merge", "customer_merge", merge_users, MERGE_ENVELOPE, "app_id"),
    ):
        router.add(
            Route(
                "POST",
                pattern,
                endpoint,
                handler,
                envelope=envelope,
                workspace_param=workspace_param,
                workspace_in_query=f"{{{workspace_param}}}" not in pattern,
                max_bytes=settings.data_api_max_bytes,
                pools=(endpoint,),
                weighted=endpoint != "customer_delete",
            )
        )
