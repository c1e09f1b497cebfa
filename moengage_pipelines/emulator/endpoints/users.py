"""User administration on the Data APIs: Get User (export), Delete User, Merge Users."""

from __future__ import annotations

from typing import Any

from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.endpoints.data_requests import (
    accepted,
    bounded_list,
    json_object,
    missing,
)
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.parsed_elements import Drop
from moengage_pipelines.emulator.routing import Route, Router
from moengage_pipelines.emulator.state import EmulatorState
from moengage_pipelines.emulator.timeparse import stored_datetime

__all__ = ["register"]

EXPORT_MAX_USERS = 20
MERGE_MAX_PAIRS = 50
IDENTITY_RESOLUTION_MERGE = (
    "Merge User API is not available for workspaces with Identity Resolution enabled"
)


# -- Get User (export) ------------------------------------------------------------------------


def export_users(call: Call) -> Response:
    """``POST /v1/customers/export?app_id=``: look users up by ``customer_id`` or MoEngage id.

    ``identifiers`` is read inside ``data`` (the spec) or at the root (the live page's curl).
    """
    document = json_object(call)
    data = document.get("data")
    if data is not None and not isinstance(data, dict):
        raise missing(call, "data", "data is expected to be Object")
    container = data if data is not None else document
    if data is None and "identifiers" not in document:
        raise missing(call, "data")
    identifiers = bounded_list(call, container, "identifiers", EXPORT_MAX_USERS, "users")
    fields = container.get("user_fields_to_export")
    if fields is not None and (
        not isinstance(fields, list) or not all(isinstance(f, str) for f in fields)
    ):
        raise missing(call, "user_fields_to_export", "user_fields_to_export is expected to be List")
    wanted: list[tuple[str, str]] = []
    for item in identifiers:
        kind = item.get("identifier_type") if isinstance(item, dict) else None
        value = item.get("identifier") if isinstance(item, dict) else None
        if kind not in ("customer_id", "id", "moengage_id"):
            raise missing(
                call, "identifier_type", "identifier_type is expected to be one of customer_id, id"
            )
        if not isinstance(value, str) or not value:
            raise missing(
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
        everything = {
            **_as_stored(user.attributes, user.attribute_types),
            "customer_id": user.customer_id,
        }
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


def _as_stored(attributes: dict[str, Any], types: dict[str, str]) -> dict[str, Any]:
    """Attributes as MoEngage holds them: datetimes as points in time (``stored_datetime``)."""
    return {
        name: stored_datetime(value) if types.get(name) == "datetime" else value
        for name, value in attributes.items()
    }


# -- Delete User -----------------------------------------------------------------------------


def delete_user(call: Call) -> Response:
    """``POST /v1/customer/delete?app_id=``: one user per request.

    MoEngage deletes after a 24-hour buffer; the emulator deletes at once (the user leaves
    ``users()``, the deletion is listed by ``deletions()``), events stay but reach no user.
    """
    document = json_object(call)
    kind = document.get("identity_type")
    value = document.get("identity_value")
    if kind is None:
        raise missing(call, "identity_type")
    if kind not in ("customer_id", "id", "moengage_id"):
        raise missing(
            call, "identity_type", "identity_type is expected to be one of customer_id, id"
        )
    if not isinstance(value, str) or not value.strip():
        raise missing(
            call, "identity_value", "identity_value is expected to be String or Unicode String."
        )
    lookup = "customer_id" if kind == "customer_id" else "id"
    user = call.store.find_users(call.ws, lookup, [value]).get(value)
    if user is None:
        label = "customer id" if kind == "customer_id" else "moengage id"
        raise call.fail(400, f"User doesn't exists with {label} {value}", type="Not Found")
    call.store.delete_user(call.ws, user, request_id=call.request_id, now=call.now)
    return accepted(call)


# -- Merge Users -------------------------------------------------------------------------------


def merge_users(call: Call) -> Response:
    """``POST /v1/customer/merge?app_id=``: up to 50 pairs; a failing pair is skipped.

    MoEngage's Merge Users does not work when Identity Resolution is enabled: such a
    workspace gets a 400 before anything is read.
    """
    if call.settings.identity_resolution:
        raise call.fail(400, IDENTITY_RESOLUTION_MERGE, type="InvalidParams")
    document = json_object(call)
    pairs = bounded_list(call, document, "merge_data", MERGE_MAX_PAIRS, "merge_data")
    for pair in pairs:
        if not isinstance(pair, dict):
            raise missing(call, "merge_data", "merge_data is expected to be a List of Objects")
        for name in ("merged_user", "retained_user"):
            if not isinstance(pair.get(name), str) or not pair[name]:
                raise missing(call, name, f"{name} is expected to be String or Unicode String.")
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
        call.ws, skipped, endpoint=call.endpoint, request_id=call.request_id, now=call.now
    )
    return call.ok({"status": "success", "operation": "created"})


def register(router: Router, state: EmulatorState) -> None:
    """Add the Get User, Delete User and Merge Users routes.

    The workspace is the ``app_id`` query parameter. Each spends the pool named like its
    endpoint; only Delete User spends per request rather than by weight.
    """
    for pattern, endpoint, handler, family in (
        ("/v1/customers/export", "customers_export", export_users, "data"),
        ("/v1/customer/delete", "customer_delete", delete_user, "delete"),
        ("/v1/customer/merge", "customer_merge", merge_users, "merge"),
    ):
        router.add(
            Route(
                "POST",
                pattern,
                endpoint,
                handler,
                family=family,
                workspace_param="app_id",
                workspace_in_query=True,
                max_bytes=state.settings.data_api_max_bytes,
                pools=(endpoint,),
                weighted=endpoint != "customer_delete",
            )
        )
