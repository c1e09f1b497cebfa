"""Catalog API (base ``/v1``): create, add attributes, add/update/search/delete items.

Every route needs the campaign/catalog key and ``MOE-APPKEY``, answers errors as
``{"error-code", "message"}`` and spends the one ``catalog`` pool (100/min and 1,000/h
combined over the six endpoints). Writes are synchronous. Rules live in
``moengage_pipelines.emulator.catalog_rules``, storage in ``catalog_store``.

Inspection (no auth): ``GET /_emulator/catalogs`` (``Inspector.catalogs``),
``/_emulator/catalogs/{catalog_id}``, ``/_emulator/catalogs/{catalog_id}/items``; each takes
``?workspace=``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from moengage_pipelines import limits
from moengage_pipelines.emulator import catalog_rules as rules
from moengage_pipelines.emulator.catalog_store import (
    AttributeLimitError,
    Catalog,
    CatalogLimitError,
    CatalogNameTakenError,
    CatalogStore,
    StoredItem,
    iso_time,
)
from moengage_pipelines.emulator.elements import Drop
from moengage_pipelines.emulator.envelopes import CATALOG, DATA
from moengage_pipelines.emulator.http import ApiError, Response
from moengage_pipelines.emulator.routing import Route, Router, inspection_route

if TYPE_CHECKING:
    from moengage_pipelines.emulator.core import Call, Emulator

__all__ = ["CATALOG_ENDPOINTS", "register", "search_item"]


CATALOG_ENDPOINTS = (
    "catalog_create",
    "catalog_attributes",
    "catalog_items_add",
    "catalog_items_update",
    "catalog_items_search",
    "catalog_items_delete",
)

_INVALID = "invalid-request"
_ITEM_COUNT = (
    f"items size should be greater than 0 and less than or equal to {limits.CATALOG_MAX_ITEMS}"
)
_SEARCH_COUNT = (
    f"Item count should be greater than 0 and less than or equal to {limits.CATALOG_MAX_ITEMS}"
)
_NOT_FOUND = "We could not find any API based catalog for the provided catalog id."
_TOO_LARGE = (
    "Your payload size exceeds the 5MB limit. Please reduce the payload size and try again."
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
_BAD_TYPE = (
    "The data type provided for some of the attributes is invalid. Provided value: {values} "
    "You can add attributes with valid data types - [bool, double, string, datetime, geopoint] "
    "only"
)
# Fields every searched item carries; a custom attribute of the same name does not replace them.
_SYSTEM_FIELDS = (
    "catalog_id",
    "feed_id",
    "price_currency",
    "creation_date",
    "last_updated",
    "product_id",
)


def _invalid(call: Call, message: str) -> ApiError:
    return call.fail(400, message, type=_INVALID)


def _body(call: Call) -> dict[str, Any]:
    """Content type, the 5 MB limit (only when Content-Length is sent), then the JSON object.

    MoEngage enforces the size "only when Content-Length is provided", so the route leaves
    the byte limit to this function instead of the shared pipeline.
    """
    request, envelope = call.request, call.route.envelope
    content_type = request.header("content-type")
    if content_type is None or not content_type.strip():
        raise ApiError(envelope.content_type_missing(call.request_id))
    if content_type.split(";", 1)[0].strip().lower() != "application/json":
        raise ApiError(envelope.content_type_unsupported(call.request_id))
    declared = (request.header("content-length") or "").strip()
    if declared.isdigit() and int(declared) > limits.CATALOG_MAX_BYTES:
        raise call.fail(413, _TOO_LARGE, type="payload-size-exceeded")
    document = call.json()
    if not isinstance(document, dict):
        raise _invalid(call, "The request body must be a JSON object.")
    return document


def _catalog(call: Call) -> Catalog:
    found = CatalogStore(call.store).get(call.ws, call.params["catalog_id"])
    if found is None:
        raise call.fail(404, _NOT_FOUND, type="catalog-not-found")
    return found


def _attribute_definitions(call: Call, value: Any, *, allow_empty: bool) -> dict[str, str]:
    """Validate ``[{"name", "type"}...]``; returns name to type in order (repeats collapsed)."""
    if not isinstance(value, list) or (not value and not allow_empty):
        raise _invalid(call, "attributes must be a non-empty list of {name, type} objects.")
    definitions: dict[str, str] = {}
    bad_types: list[str] = []
    for position, entry in enumerate(value):
        name = entry.get("name") if isinstance(entry, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip() or kind is None:
            raise _invalid(
                call, f"attributes[{position}] must be an object with a name and a type."
            )
        if kind not in rules.ATTRIBUTE_TYPES:
            bad_types.append(str(kind))
            continue
        if name in definitions and definitions[name] != kind:
            raise _invalid(call, f"Attribute {name} is defined twice with different data types.")
        definitions[name] = kind
    if bad_types:
        raise _invalid(call, _BAD_TYPE.format(values=", ".join(dict.fromkeys(bad_types))))
    return definitions


def _items(call: Call, document: dict[str, Any], message: str) -> list[Any]:
    items = document.get("items")
    if not isinstance(items, list) or not 0 < len(items) <= limits.CATALOG_MAX_ITEMS:
        raise _invalid(call, message)
    return items


def _item_ids(call: Call, document: dict[str, Any], message: str) -> list[str]:
    ids = _items(call, document, message)
    if not all(isinstance(i, str) and i for i in ids):
        raise _invalid(call, "items must be a list of item ids (non-empty strings).")
    return ids


def _record_problems(call: Call, problems: list[tuple[int, Any, rules.ItemProblem]]) -> None:
    # Answered in the response too; kept so the inspection API shows every refused item.
    call.store.record_drops(
        call.ws,
        [
            Drop(position, "item", f"{p.error_id}: {p.message}", item, None)
            for position, item, p in problems
        ],
        endpoint=call.route.endpoint,
        request_id=call.request_id,
        now=call.now,
    )


def search_item(catalog: Catalog, item: StoredItem) -> dict[str, Any]:
    """An item as the search API returns it: catalog fields, times, ``product_id`` = its id."""
    attributes = dict(item.attributes)
    item_id = attributes.pop("id", item.item_id)
    shown: dict[str, Any] = {
        "catalog_id": catalog.catalog_id,
        "feed_id": catalog.feed_id,
        "title": attributes.pop("title", ""),
    }
    if "description" in attributes:
        shown["description"] = attributes.pop("description")
    shown.update(
        link=attributes.pop("link", ""),
        image_link=attributes.pop("image_link", ""),
        price_currency=catalog.price_currency,
        creation_date=iso_time(item.created_at),
        last_updated=iso_time(item.updated_at),
        product_id=item_id,
    )
    shown.update((k, v) for k, v in attributes.items() if k not in _SYSTEM_FIELDS)
    return shown


# -- handlers ---------------------------------------------------------------------------------


def create_catalog(call: Call) -> Response:
    """``POST /v1/catalog`` → 201 ``{"catalog_id"}``."""
    document = _body(call)
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _invalid(call, "name is mandatory and must be a non-empty string.")
    currency = document.get("price_currency")
    if currency is None:
        raise _invalid(call, "price_currency is mandatory.")
    if currency not in rules.CURRENCIES:
        raise _invalid(
            call, f"price_currency must be an ISO 4217 currency code. Provided value: {currency}"
        )
    attributes = document.get("attributes")
    if isinstance(attributes, list) and len(attributes) > limits.CATALOG_MAX_ATTRIBUTES:
        raise call.fail(400, _ATTRIBUTE_LIMIT, type="attribute-limit-exceeded")
    definitions = _attribute_definitions(call, attributes, allow_empty=True)
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
    catalog = _catalog(call)
    document = _body(call)
    raw = document.get("attributes")
    if isinstance(raw, list) and len(raw) > limits.CATALOG_MAX_ATTRIBUTES:
        raise call.fail(413, _TOO_MANY_ATTRIBUTES, type="too-many-attributes")
    definitions = _attribute_definitions(call, raw, allow_empty=False)
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


def add_items(call: Call) -> Response:
    """``POST /v1/catalog/{id}/items`` → 200 with valid/invalid counts (partial success)."""
    catalog = _catalog(call)
    items = _items(call, _body(call), _ITEM_COUNT)
    if not all(isinstance(item, dict) for item in items):
        raise _invalid(call, "Every item must be a JSON object.")
    outcome = rules.Outcome()
    refused: list[tuple[int, Any, rules.ItemProblem]] = []

    def decide(taken: set[str]) -> list[tuple[str, dict[str, Any]]]:
        for position, item in enumerate(items):
            checked = rules.check_new_item(item, position, catalog.attributes, taken)
            if isinstance(checked, rules.ItemProblem):
                outcome.problems.append(checked)
                refused.append((position, item, checked))
            else:
                outcome.valid.append(checked)
        return outcome.valid

    wanted = [item["id"] for item in items if isinstance(item.get("id"), str)]
    CatalogStore(call.store).write_items(
        call.ws, catalog.catalog_id, wanted, decide, now=call.now, merge=False
    )
    _record_problems(call, refused)
    return call.ok(outcome.to_message())


def update_items(call: Call) -> Response:
    """``PATCH /v1/catalog/{id}/items`` → 200; unknown ids count as ``item-not-found``."""
    catalog = _catalog(call)
    items = _items(call, _body(call), _ITEM_COUNT)
    for position, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not item["id"]
            or not isinstance(item.get("attributes"), dict)
        ):
            raise _invalid(
                call, f"items[{position}] must be an object with an id and an attributes object."
            )
    outcome = rules.Outcome()
    refused: list[tuple[int, Any, rules.ItemProblem]] = []

    def decide(existing: set[str]) -> list[tuple[str, dict[str, Any]]]:
        combined: dict[str, dict[str, Any]] = {}
        for position, item in enumerate(items):
            checked = rules.check_update(
                item["id"], item["attributes"], catalog.attributes, item["id"] in existing
            )
            if isinstance(checked, rules.ItemProblem):
                outcome.problems.append(checked)
                refused.append((position, item, checked))
                continue
            outcome.valid.append((item["id"], checked))
            # Several updates of one item in a request apply in order.
            combined.setdefault(item["id"], {}).update(checked)
        return list(combined.items())

    CatalogStore(call.store).write_items(
        call.ws, catalog.catalog_id, [i["id"] for i in items], decide, now=call.now, merge=True
    )
    _record_problems(call, refused)
    return call.ok(outcome.to_message())


def search_items(call: Call) -> Response:
    """``POST /v1/catalog/{id}/items/search`` → 200 ``{"items": [...]}`` (unknown ids omitted)."""
    catalog = _catalog(call)
    ids = _item_ids(call, _body(call), _SEARCH_COUNT)
    found = CatalogStore(call.store).items(call.ws, catalog.catalog_id, ids)
    return call.ok(
        {"items": [search_item(catalog, found[i]) for i in dict.fromkeys(ids) if i in found]}
    )


def delete_items(call: Call) -> Response:
    """``POST /v1/catalog/{id}/items/bulk-delete`` → 202; ids not found count as invalid."""
    catalog = _catalog(call)
    ids = _item_ids(call, _body(call), _ITEM_COUNT)
    deleted = CatalogStore(call.store).delete_items(call.ws, catalog.catalog_id, ids)
    return call.ok(
        {"message": {"valid": {"count": deleted}, "invalid": {"count": len(ids) - deleted}}},
        status=202,
    )


# -- inspection ---------------------------------------------------------------------------------


def _inspected_workspace(call: Call) -> str:
    return call.request.query.get("workspace") or call.settings.workspace_id


def _inspected_catalog(call: Call) -> tuple[str, Catalog]:
    workspace = _inspected_workspace(call)
    found = CatalogStore(call.store).get(workspace, call.params["catalog_id"])
    if found is None:
        raise ApiError(DATA.not_found(call.request_id))
    return workspace, found


def inspect_catalogs(call: Call) -> Response:
    """Every catalog of the workspace with its schema and item count."""
    return call.ok(call.emulator.inspect.catalogs(_inspected_workspace(call)))


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


def register(router: Router, emulator: Emulator) -> None:
    """Add the catalog routes and their inspection views."""
    CatalogStore.install(emulator.store)

    def add(method: str, pattern: str, endpoint: str, handler: Any) -> None:
        router.add(
            Route(
                method,
                pattern,
                endpoint,
                handler,
                envelope=CATALOG,
                auth="campaign",
                appkey="required",
                # The body is read by ``_body``: the 5 MB limit applies only with Content-Length.
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
