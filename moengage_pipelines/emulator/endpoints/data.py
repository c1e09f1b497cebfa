"""Data APIs: bulk import, Track User/Event/Device, Get User (export), Delete User, Merge Users."""

from __future__ import annotations

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
from moengage_pipelines.emulator.envelopes import DataEnvelope
from moengage_pipelines.emulator.http import ApiError, Response
from moengage_pipelines.emulator.routing import Route, Router

if TYPE_CHECKING:
    from moengage_pipelines.emulator.core import Call, Emulator

__all__ = ["ACCEPTED_MESSAGE", "register"]

ACCEPTED_MESSAGE = "Your request has been accepted and will be processed soon."
EXPORT_MAX_USERS = 20
MERGE_MAX_PAIRS = 50

USER_ENVELOPE = DataEnvelope()
EVENT_ENVELOPE = DataEnvelope(
    rate_limit_message="Rate limits for customers exceeded. Please Try After Some Time",
    rate_limit_type="Rate Limits Exceeded",
    unsupported_message="Content type is not supported",
    unsupported_type="Unsupported media type",
)
DELETE_ENVELOPE = DataEnvelope(title_style_throttling=True)
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
        raise call.fail(
            400, "type is not found in the payload", type="MissingAttributeError", attribute="type"
        )
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
            raise call.fail(
                400,
                "type is not found in the payload",
                type="MissingAttributeError",
                attribute="type",
            )
        raise call.fail(400, "type should be transition", type="AttributeError", attribute="type")
    elements = document.get("elements")
    if elements is None:
        raise call.fail(
            400,
            "elements is not found in the payload",
            type="MissingAttributeError",
            attribute="elements",
        )
    if not isinstance(elements, list):
        raise call.fail(
            400, "elements is expected to be List", type="AttributeError", attribute="elements"
        )
    if not elements:
        raise call.fail(
            400,
            "elements cannot be empty array",
            type="MissingAttributeError",
            attribute="elements",
        )
    parsed = Parsed()
    users = events = 0
    settings = call.settings
    try:
        for index, element in enumerate(elements):
            kind = element.get("type") if isinstance(element, dict) else None
            if kind == "customer":
                users += 1
                parse_customer(
                    element, index, parsed, identity_resolution=settings.identity_resolution
                )
            elif kind == "event":
                actions = element.get("actions")
                events += len(actions) if isinstance(actions, list) else 0
                parse_event(
                    element,
                    index,
                    parsed,
                    now=call.now,
                    future_tolerance=settings.future_event_tolerance,
                    bulk=True,
                    identity_resolution=settings.identity_resolution,
                )
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


def track_user(call: Call) -> Response:
    """``POST /v1/customer/{app_id}``."""
    document = _object(call)
    parsed = Parsed()
    if _check_type(call, document, "customer", parsed):
        try:
            parse_customer(
                document, 0, parsed, identity_resolution=call.settings.identity_resolution
            )
        except ElementError as error:
            raise _element_error(call, error) from None
    call.spend("customer", 1)
    _apply(call, parsed)
    return _accepted(call)


def track_event(call: Call) -> Response:
    """``POST /v1/event/{workspace_id}``."""
    document = _object(call)
    parsed = Parsed()
    actions = document.get("actions")
    if _check_type(call, document, "event", parsed):
        try:
            parse_event(
                document,
                0,
                parsed,
                now=call.now,
                future_tolerance=call.settings.future_event_tolerance,
                bulk=False,
                identity_resolution=call.settings.identity_resolution,
            )
        except ElementError as error:
            raise _element_error(call, error) from None
    call.spend("event", max(len(actions), 1) if isinstance(actions, list) else 1)
    _apply(call, parsed)
    return _accepted(call)


def track_device(call: Call) -> Response:
    """``POST /v1/device/{app_id}``."""
    document = _object(call)
    parsed = Parsed()
    if _check_type(call, document, "device", parsed):
        try:
            parse_device(document, 0, parsed, bulk=False)
        except ElementError as error:
            raise _element_error(call, error) from None
    call.spend("device", 1)
    _apply(call, parsed)
    return _accepted(call)


# -- Get User (export) ------------------------------------------------------------------------


def export_users(call: Call) -> Response:
    """``POST /v1/customers/export?app_id=``: look users up by ``customer_id`` or MoEngage id.

    ``identifiers`` is read inside ``data`` (the spec) or at the root (the live page's curl).
    """
    document = _object(call)
    data = document.get("data")
    if data is not None and not isinstance(data, dict):
        raise call.fail(
            400, "data is expected to be Object", type="MissingAttributeError", attribute="data"
        )
    container = data if data is not None else document
    if data is None and "identifiers" not in document:
        raise call.fail(
            400, "data is not found in the payload", type="MissingAttributeError", attribute="data"
        )
    identifiers = container.get("identifiers")
    if identifiers is None:
        raise call.fail(
            400,
            "identifiers is not found in the payload",
            type="MissingAttributeError",
            attribute="identifiers",
        )
    if not isinstance(identifiers, list) or not identifiers:
        raise call.fail(
            400,
            "identifiers is expected to be a non-empty List",
            type="MissingAttributeError",
            attribute="identifiers",
        )
    if len(identifiers) > EXPORT_MAX_USERS:
        raise call.fail(
            400, f"max limit allowed is {EXPORT_MAX_USERS}", type="LimitBreached", attribute="users"
        )
    fields = container.get("user_fields_to_export")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise call.fail(
            400,
            "user_fields_to_export is expected to be List",
            type="MissingAttributeError",
            attribute="user_fields_to_export",
        )
    wanted: list[tuple[str, str]] = []
    for item in identifiers:
        kind = item.get("identifier_type") if isinstance(item, dict) else None
        value = item.get("identifier") if isinstance(item, dict) else None
        if kind not in ("customer_id", "id", "moengage_id"):
            raise call.fail(
                400,
                "identifier_type is expected to be one of customer_id, id",
                type="MissingAttributeError",
                attribute="identifier_type",
            )
        if not isinstance(value, str) or not value:
            raise call.fail(
                400,
                "identifier is expected to be String or Unicode String.",
                type="MissingAttributeError",
                attribute="identifier",
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
        raise call.fail(
            400,
            "identity_type is not found in the payload",
            type="MissingAttributeError",
            attribute="identity_type",
        )
    if kind not in ("customer_id", "id", "moengage_id"):
        raise call.fail(
            400,
            "identity_type is expected to be one of customer_id, id",
            type="MissingAttributeError",
            attribute="identity_type",
        )
    if not isinstance(value, str) or not value.strip():
        raise call.fail(
            400,
            "identity_value is expected to be String or Unicode String.",
            type="MissingAttributeError",
            attribute="identity_value",
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
    """``POST /v1/customer/merge?app_id=``: up to 50 pairs; a failing pair is skipped."""
    document = _object(call)
    pairs = document.get("merge_data")
    if pairs is None:
        raise call.fail(
            400,
            "merge_data is not found in the payload",
            type="MissingAttributeError",
            attribute="merge_data",
        )
    if not isinstance(pairs, list) or not pairs:
        raise call.fail(
            400,
            "merge_data is expected to be a non-empty List",
            type="MissingAttributeError",
            attribute="merge_data",
        )
    if len(pairs) > MERGE_MAX_PAIRS:
        raise call.fail(
            400,
            f"max limit allowed is {MERGE_MAX_PAIRS}",
            type="LimitBreached",
            attribute="merge_data",
        )
    for pair in pairs:
        if not isinstance(pair, dict):
            raise call.fail(
                400,
                "merge_data is expected to be a List of Objects",
                type="MissingAttributeError",
                attribute="merge_data",
            )
        for name in ("merged_user", "retained_user"):
            if not isinstance(pair.get(name), str) or not pair[name]:
                raise call.fail(
                    400,
                    f"{name} is expected to be String or Unicode String.",
                    type="MissingAttributeError",
                    attribute=name,
                )
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
    data_max = settings.data_api_max_bytes

    def route(
        pattern: str, endpoint: str, handler: Any, envelope: DataEnvelope, **kw: Any
    ) -> Route:
        return Route("POST", pattern, endpoint, handler, envelope=envelope, auth="data", **kw)

    router.add(
        route(
            "/v1/transition/{workspace_id}",
            "transition",
            transition,
            EVENT_ENVELOPE,
            workspace_param="workspace_id",
            max_bytes=settings.transition_max_bytes,
            pools=("transition_users", "transition_events"),
            weighted=True,
        )
    )
    router.add(
        route(
            "/v1/customer/{app_id}",
            "customer",
            track_user,
            USER_ENVELOPE,
            workspace_param="app_id",
            max_bytes=data_max,
            pools=("customer",),
            weighted=True,
        )
    )
    router.add(
        route(
            "/v1/event/{workspace_id}",
            "event",
            track_event,
            EVENT_ENVELOPE,
            workspace_param="workspace_id",
            max_bytes=data_max,
            pools=("event",),
            weighted=True,
        )
    )
    router.add(
        route(
            "/v1/device/{app_id}",
            "device",
            track_device,
            EVENT_ENVELOPE,
            workspace_param="app_id",
            max_bytes=data_max,
            pools=("device",),
            weighted=True,
        )
    )
    router.add(
        route(
            "/v1/customers/export",
            "customers_export",
            export_users,
            USER_ENVELOPE,
            workspace_param="app_id",
            workspace_in_query=True,
            max_bytes=data_max,
            pools=("customers_export",),
            weighted=True,
        )
    )
    router.add(
        route(
            "/v1/customer/delete",
            "customer_delete",
            delete_user,
            DELETE_ENVELOPE,
            workspace_param="app_id",
            workspace_in_query=True,
            max_bytes=data_max,
            pools=("customer_delete",),
        )
    )
    router.add(
        route(
            "/v1/customer/merge",
            "customer_merge",
            merge_users,
            USER_ENVELOPE,
            workspace_param="app_id",
            workspace_in_query=True,
            max_bytes=data_max,
            pools=("customer_merge",),
            weighted=True,
        )
    )
