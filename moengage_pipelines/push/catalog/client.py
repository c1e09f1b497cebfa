"""``CatalogClient``: what catalog pushes need from ``MoEngageClient``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from moengage_pipelines.api.counters import RequestTrace

__all__ = ["CatalogClient"]


class CatalogClient(Protocol):
    """The catalog endpoints a push calls."""

    def create_catalog(
        self, name: str, *, price_currency: str, attributes: Sequence[Mapping[str, str]]
    ) -> str:
        """Create a catalog; return its id."""
        ...

    def add_catalog_attributes(
        self, catalog_id: str, attributes: Sequence[Mapping[str, str]]
    ) -> dict[str, Any]:
        """Add attributes to a catalog."""
        ...

    def add_catalog_items(
        self,
        catalog_id: str,
        items: bytes | Sequence[Mapping[str, Any]],
        *,
        trace: RequestTrace | None = None,
        on_dispatch: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Add items (a packed body, or item dicts)."""
        ...

    def update_catalog_items(
        self,
        catalog_id: str,
        items: bytes | Sequence[Mapping[str, Any]],
        *,
        trace: RequestTrace | None = None,
        on_dispatch: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Update existing items."""
        ...

    def delete_catalog_items(self, catalog_id: str, item_ids: Sequence[str]) -> dict[str, Any]:
        """Delete items by id."""
        ...
