"""Catalog API (base ``/v1``): create, add attributes, add/update/search/delete items.

Every route needs the campaign/catalog key and ``MOE-APPKEY``, answers errors as
``{"error-code", "message"}`` and spends the one ``catalog`` pool (100/min and 1,000/h
combined over the six endpoints). Writes are synchronous. Rules live in
``moengage_pipelines.emulator.catalog_rules``, storage in ``catalog_store``, the item
endpoints in ``catalog_items``.

Inspection (no auth): ``GET /_emulator/catalogs`` (``Inspector.catalogs``),
``/_emulator/catalogs/{catalog_id}``, ``/_emulator/catalogs/{catalog_id}/items``; each takes
``?workspace=``.
"""

from __future__ import annotations

from typing import Any

import moengage_pipelines.emulator.catalog_rules as rules
from moengage_pipelines import limits
from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.catalog_store import (
    AttributeLimitError,
    Catalog,
    CatalogLimitError,
    CatalogNameTakenError,
    CatalogStore,
)
from moengage_pipelines.emulator.endpoints.catalog_items import (
    add_items,
    delete_items,
    search_item,
    search_items,
    update_items,
)
from moengage_pipelines.emulator.endpoints.catalog_requests import (
    attribute_definitions,
    invalid,
    json_body,
    requested_catalog,
)
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.routing import Route, Router, inspection_route
from moengage_pipelines.emulator.state import EmulatorState

__all__ = ["CATALOG_ENDPOINTS", "register"]

CATALOG_ENDPOINTS = (
    "catalog_create",
    "catalog_attributes",
    "catalog_items_add",
    "catalog_items_update",
    "catalog_items_search",
    "catalog_items_delete",
)
_DUPLICATE_NAME = (
    "Catalog name already exists. Please use a different name for your catalog and try again."
)
_CATALOG_LIMIT = (
    f"You have exceeded the total limit of {limits.CATALOG_MAX_CATALOGS} catalogs for your "
    "account. You need to delete unused catalogs from the dashboard and try again."
)
_ATTRIBUTE_LIMIT = (
    f"Your catalog has exceeded the maximum limit of {limits.CATALOG_MAX_ATTRIBUTES} attributes "
    "per catalog. Please reduce the number of attributes and try again."
)
_TOO_MANY_ATTRIBUTES = f"Maximum allowed attributes is {limits.CATALOG_MAX_ATTRIBUTES}"
_MANDATORY = (
    "You must include mandatory attributes: id, title, link, and image_link with string data "
    "type and try again. Invalid or absent attributes: {names}"
)


def create_catalog(call: Call) -> Response:
    """``POST /v1/catalog`` → 201 ``{"catalog_id"}``."""
    document = json_body(call)
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid(call, "name is mandatory and must be a non-empty string.")
    currency = document.get("price_currency")
    if currency is None:
        raise invalid(call, "price_currency is mandatory.")
    if currency not in rules.CURRENCIES:
        raise invalid(
            call, f"price_currency must be an ISO 4217 currency code. Provided value: {currency}"
        )
    attributes = document.get("attributes")
    if isinstance(attributes, list) and len(attributes) > limits.CATALOG_MAX_ATTRIBUTES:
        raise call.fail(400, _ATTRIBUTE_LIMIT, type="attribute-limit-exceeded")
    definitions = attribute_definitions(call, attributes, allow_empty=True)
    missing = rules.missing_mandatory({"name": n, "type": t} for n, t in definitions.items())
    if missing:
        raise call.fail(
            400, _MANDATORY.format(names=", ".join(missing)), type="missing-mandatory-attributes"
        )
    try:
        catalog = CatalogStore(call.store).create(
            call.ws,
            name,
            currency,
            definitions,
            now=call.now,
            max_catalogs=limits.CATALOG_MAX_CATALOGS,
        )
    except CatalogNameTakenError:
        raise call.fail(409, _DUPLICATE_NAME, type="duplicate-catalog-name") from None
    except CatalogLimitError:
        raise call.fail(400, _CATALOG_LIMIT, type="catalog-limit-exceeded") from None
    return call.ok({"catalog_id": catalog.catalog_id}, status=201)


def add_attributes(call: Call) -> Response:
    """``PATCH /v1/catalog/{id}/attributes`` → 202; existing names are ignored and listed."""
    catalog = requested_catalog(call)
    document = json_body(call)
    raw = document.get("attributes")
    if isinstance(raw, list) and len(raw) > limits.CATALOG_MAX_ATTRIBUTES:
        raise call.fail(413, _TOO_MANY_ATTRIBUTES, type="too-many-attributes")
    definitions = attribute_definitions(call, raw, allow_empty=False)
    try:
        duplicates = CatalogStore(call.store).add_attributes(
            call.ws,
            catalog.catalog_id,
            definitions,
            now=call.now,
            max_attributes=limits.CATALOG_MAX_ATTRIBUTES,
        )
    except AttributeLimitError:
        raise call.fail(413, _TOO_MANY_ATTRIBUTES, type="too-many-attributes") from None
    return call.ok({"success": True, "duplicate-item-attributes": duplicates}, status=202)


# -- inspection ---------------------------------------------------------------------------------


def _inspected_workspace(call: Call) -> str:
    return call.request.query.get("workspace") or call.settings.workspace_id


def _inspected_catalog(call: Call) -> tuple[str, Catalog]:
    workspace = _inspected_workspace(call)
    found = CatalogStore(call.store).get(workspace, call.params["catalog_id"])
    if found is None:
        raise call.refuse("not_found")
    return workspace, found


def inspect_catalogs(call: Call) -> Response:
    """Every catalog of the workspace with its schema and item count."""
    return call.ok(call.inspect.catalogs(_inspected_workspace(call)))


def inspect_catalog(call: Call) -> Response:
    """One catalog with its items as searched."""
    workspace, catalog = _inspected_catalog(call)
    items = CatalogStore(call.store).items(workspace, catalog.catalog_id)
    return call.ok(
        {**catalog.to_dict(), "items": [search_item(catalog, item) for item in items.values()]}
    )


def inspect_items(call: Call) -> Response:
    """Item id to stored attributes."""
    workspace, catalog = _inspected_catalog(call)
    items = CatalogStore(call.store).items(workspace, catalog.catalog_id)
    return call.ok({item_id: item.attributes for item_id, item in items.items()})


def register(router: Router, state: EmulatorState) -> None:
    """Add the catalog routes and their inspection views."""
    CatalogStore.install(state.store)

    def add(method: str, pattern: str, endpoint: str, handler: Any) -> None:
        router.add(
            Route(
                method,
                pattern,
                endpoint,
                handler,
                family="catalog",
                auth="campaign",
                appkey="required",
                # ``json_body`` reads the body: the 5 MB limit applies only with Content-Length.
                json_body=False,
                pools=("catalog",),
            )
        )

    add("POST", "/v1/catalog", "catalog_create", create_catalog)
    add("PATCH", "/v1/catalog/{catalog_id}/attributes", "catalog_attributes", add_attributes)
    add("POST", "/v1/catalog/{catalog_id}/items", "catalog_items_add", add_items)
    add("PATCH", "/v1/catalog/{catalog_id}/items", "catalog_items_update", update_items)
    add("POST", "/v1/catalog/{catalog_id}/items/search", "catalog_items_search", search_items)
    add("POST", "/v1/catalog/{catalog_id}/items/bulk-delete", "catalog_items_delete", delete_items)

    router.add(inspection_route("GET", "/catalogs", inspect_catalogs))
    router.add(inspection_route("GET", "/catalogs/{catalog_id}", inspect_catalog))
    router.add(inspection_route("GET", "/catalogs/{catalog_id}/items", inspect_items))
