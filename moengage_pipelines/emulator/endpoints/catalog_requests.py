"""Reading catalog requests: the body, the catalog named in the path, attribute and item lists.

Every refusal is a 400 ``invalid-request`` unless MoEngage documents another code.
"""

from __future__ import annotations

from typing import Any

import moengage_pipelines.emulator.catalog_rules as rules
from moengage_pipelines import limits
from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.catalog_store import Catalog, CatalogStore
from moengage_pipelines.emulator.http import ApiError
from moengage_pipelines.emulator.request_body import check_content_type

__all__ = [
    "CATALOG_NOT_FOUND",
    "INVALID_REQUEST",
    "attribute_definitions",
    "invalid",
    "item_ids",
    "items_of",
    "json_body",
    "requested_catalog",
]

INVALID_REQUEST = "invalid-request"
CATALOG_NOT_FOUND = "We could not find any API based catalog for the provided catalog id."
_TOO_LARGE = (
    "Your payload size exceeds the 5MB limit. Please reduce the payload size and try again."
)
_BAD_TYPE = (
    "The data type provided for some of the attributes is invalid. Provided value: {values} "
    "You can add attributes with valid data types - [bool, double, string, datetime, geopoint] "
    "only"
)


def invalid(call: Call, message: str) -> ApiError:
    """A 400 ``invalid-request``, to ``raise``."""
    return call.fail(400, message, type=INVALID_REQUEST)


def json_body(call: Call) -> dict[str, Any]:
    """Content type, the 5 MB limit (only when Content-Length is sent), then the JSON object.

    MoEngage enforces the size "only when Content-Length is provided", so the route leaves
    the byte limit to this function instead of the shared pipeline.
    """
    check_content_type(call.request, call.family, call.request_id)
    declared = (call.request.header("content-length") or "").strip()
    if declared.isdigit() and int(declared) > limits.CATALOG_MAX_BYTES:
        raise call.fail(413, _TOO_LARGE, type="payload-size-exceeded")
    document = call.json()
    if not isinstance(document, dict):
        raise invalid(call, "The request body must be a JSON object.")
    return document


def requested_catalog(call: Call) -> Catalog:
    """The catalog of the path's ``catalog_id`` (404 ``catalog-not-found`` if none)."""
    found = CatalogStore(call.store).get(call.ws, call.params["catalog_id"])
    if found is None:
        raise call.fail(404, CATALOG_NOT_FOUND, type="catalog-not-found")
    return found


def attribute_definitions(call: Call, value: Any, *, allow_empty: bool) -> dict[str, str]:
    """Validate ``[{"name", "type"}...]``; returns name to type in order (repeats collapsed)."""
    if not isinstance(value, list) or (not value and not allow_empty):
        raise invalid(call, "attributes must be a non-empty list of {name, type} objects.")
    definitions: dict[str, str] = {}
    bad_types: list[str] = []
    for position, entry in enumerate(value):
        name = entry.get("name") if isinstance(entry, dict) else None
        kind = entry.get("type") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not name.strip() or kind is None:
            raise invalid(call, f"attributes[{position}] must be an object with a name and a type.")
        if kind not in rules.ATTRIBUTE_TYPES:
            bad_types.append(str(kind))
            continue
        if name in definitions and definitions[name] != kind:
            raise invalid(call, f"Attribute {name} is defined twice with different data types.")
        definitions[name] = kind
    if bad_types:
        raise invalid(call, _BAD_TYPE.format(values=", ".join(dict.fromkeys(bad_types))))
    return definitions


def items_of(call: Call, document: dict[str, Any], message: str) -> list[Any]:
    """The ``items`` list: 1 to 50 entries, else 400 with ``message``."""
    items = document.get("items")
    if not isinstance(items, list) or not 0 < len(items) <= limits.CATALOG_MAX_ITEMS:
        raise invalid(call, message)
    return items


def item_ids(call: Call, document: dict[str, Any], message: str) -> list[str]:
    """The ``items`` list of item ids (non-empty strings)."""
    ids = items_of(call, document, message)
    if not all(isinstance(i, str) and i for i in ids):
        raise invalid(call, "items must be a list of item ids (non-empty strings).")
    return ids
