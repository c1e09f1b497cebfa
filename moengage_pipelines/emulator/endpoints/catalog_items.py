"""Catalog items: add, update, search and bulk-delete (``/v1/catalog/{catalog_id}/items...``).

Add and update answer partial success: valid items are written, each refused item is counted
under its first problem (``catalog_rules``) and kept for ``inspect.dropped()``.
"""

from __future__ import annotations

from typing import Any

import moengage_pipelines.emulator.catalog_rules as rules
from moengage_pipelines import limits
from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.catalog_store import Catalog, CatalogStore, StoredItem, iso_time
from moengage_pipelines.emulator.endpoints.catalog_requests import (
    invalid,
    item_ids,
    items_of,
    json_body,
    requested_catalog,
)
from moengage_pipelines.emulator.http import Response
from moengage_pipelines.emulator.parsed_elements import Drop

__all__ = ["add_items", "delete_items", "search_item", "search_items", "update_items"]

_ITEM_COUNT = (
    f"items size should be greater than 0 and less than or equal to {limits.CATALOG_MAX_ITEMS}"
)
_SEARCH_COUNT = (
    f"Item count should be greater than 0 and less than or equal to {limits.CATALOG_MAX_ITEMS}"
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


def _record_problems(call: Call, problems: list[tuple[int, Any, rules.ItemProblem]]) -> None:
    # Answered in the response too; kept so the inspection API shows every refused item.
    call.store.record_drops(
        call.ws,
        [
            Drop(position, "item", f"{p.error_id}: {p.message}", item, None)
            for position, item, p in problems
        ],
        endpoint=call.endpoint,
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


def add_items(call: Call) -> Response:
    """``POST /v1/catalog/{id}/items`` → 200 with valid/invalid counts (partial success)."""
    catalog = requested_catalog(call)
    items = items_of(call, json_body(call), _ITEM_COUNT)
    if not all(isinstance(item, dict) for item in items):
        raise invalid(call, "Every item must be a JSON object.")
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
    catalog = requested_catalog(call)
    items = items_of(call, json_body(call), _ITEM_COUNT)
    for position, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not item["id"]
            or not isinstance(item.get("attributes"), dict)
        ):
            raise invalid(
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
    catalog = requested_catalog(call)
    ids = item_ids(call, json_body(call), _SEARCH_COUNT)
    found = CatalogStore(call.store).items(call.ws, catalog.catalog_id, ids)
    return call.ok(
        {"items": [search_item(catalog, found[i]) for i in dict.fromkeys(ids) if i in found]}
    )


def delete_items(call: Call) -> Response:
    """``POST /v1/catalog/{id}/items/bulk-delete`` → 202; ids not found count as invalid."""
    catalog = requested_catalog(call)
    ids = item_ids(call, json_body(call), _ITEM_COUNT)
    deleted = CatalogStore(call.store).delete_items(call.ws, catalog.catalog_id, ids)
    return call.ok(
        {"message": {"valid": {"count": deleted}, "invalid": {"count": len(ids) - deleted}}},
        status=202,
    )
