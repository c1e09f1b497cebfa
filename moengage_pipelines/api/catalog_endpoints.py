"""The catalog endpoints of ``MoEngageClient`` (the campaign key): catalogs and their items."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.paths import CATALOG_PATH, catalog_path
from moengage_pipelines.api.request_core import RequestCore

__all__ = ["CatalogEndpoints"]


class CatalogEndpoints(RequestCore):
    """Catalogs (``/v1/catalog``): create, add attributes, add/update/search/delete items."""

    def create_catalog(
        self,
        name: str,
        *,
        price_currency: str,
        attributes: Sequence[Mapping[str, str]] = (),
    ) -> str:
        """Create a catalog (``POST /v1/catalog``) and return its ``catalog_id``.

        Args:
            name: Unique catalog name.
            price_currency: ISO-4217 code, e.g. ``"USD"``.
            attributes: ``{"name", "type"}`` pairs; ``id``, ``title``, ``link`` and
                ``image_link`` (strings) are mandatory.
        """
        payload = {"name": name, "price_currency": price_currency, "attributes": list(attributes)}
        response = self.request(
            "POST", CATALOG_PATH, key_family="campaign", json=payload, expected="object"
        )
        document = self._json(response)
        return str(document.get("catalog_id", ""))

    def add_catalog_attributes(
        self, catalog_id: str, attributes: Sequence[Mapping[str, str]]
    ) -> dict[str, Any]:
        """Add attributes (``PATCH /v1/catalog/{id}/attributes``).

        Attributes that already exist are ignored and listed under
        ``duplicate-item-attributes``.
        """
        response = self.request(
            "PATCH",
            catalog_path(catalog_id, "/attributes"),
            key_family="campaign",
            json={"attributes": list(attributes)},
            expected="object",
        )
        return self._json(response)

    def add_catalog_items(
        self,
        catalog_id: str,
        items: Sequence[Mapping[str, Any]] | bytes,
        *,
        trace: RequestTrace | None = None,
        on_dispatch: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Add items (``POST /v1/catalog/{id}/items``), at most 50.

        Args:
            catalog_id: The catalog.
            items: Item documents, or the exact body bytes ``{"items": [...]}``.
            trace: Filled in with attempts, retries and waits.
            on_dispatch: Called as each attempt goes out (see ``request``).

        Returns:
            ``{"message": {"valid": {"count"}, "invalid": {"count", "details"}}}``: the
            request succeeds even when some items are invalid.
        """
        return self._catalog_items("POST", catalog_id, items, trace, on_dispatch)

    def update_catalog_items(
        self,
        catalog_id: str,
        items: Sequence[Mapping[str, Any]] | bytes,
        *,
        trace: RequestTrace | None = None,
        on_dispatch: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Update items (``PATCH /v1/catalog/{id}/items``) given as ``{"id", "attributes"}``."""
        return self._catalog_items("PATCH", catalog_id, items, trace, on_dispatch)

    def _catalog_items(
        self,
        method: str,
        catalog_id: str,
        items: Sequence[Mapping[str, Any]] | bytes,
        trace: RequestTrace | None,
        on_dispatch: Callable[[], None] | None,
    ) -> dict[str, Any]:
        content = items if isinstance(items, bytes) else orjson.dumps({"items": list(items)})
        response = self.request(
            method,
            catalog_path(catalog_id, "/items"),
            key_family="campaign",
            content=content,
            trace=trace,
            on_dispatch=on_dispatch,
            expected="object",
        )
        return self._json(response)

    def search_catalog_items(
        self, catalog_id: str, item_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Fetch items by id (``POST /v1/catalog/{id}/items/search``), 1 to 50 ids."""
        response = self.request(
            "POST",
            catalog_path(catalog_id, "/items/search"),
            key_family="campaign",
            json={"items": list(item_ids)},
            expected="object",
        )
        document = self._json(response)
        return list(document.get("items", [])) if isinstance(document, dict) else []

    def delete_catalog_items(self, catalog_id: str, item_ids: Sequence[str]) -> dict[str, Any]:
        """Delete items by id (``POST /v1/catalog/{id}/items/bulk-delete``), at most 50."""
        response = self.request(
            "POST",
            catalog_path(catalog_id, "/items/bulk-delete"),
            key_family="campaign",
            json={"items": list(item_ids)},
            expected="object",
        )
        return self._json(response)
