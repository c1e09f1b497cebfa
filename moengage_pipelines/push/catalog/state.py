"""What catalog pushes remember between runs: catalog ids, attribute types and pushed item ids.

MoEngage can neither look a catalog up by name, nor list a catalog's attributes or items, so a
push keeps what it learns in a ``CatalogState``:

* the id of each catalog it created (by name), so the next push finds it;
* the type of each attribute it defined, so a mapping that changes a type is stopped before
  anything is sent (MoEngage's attribute types are immutable);
* the ids of the items each catalog holds, so mirror mode can delete those that left the source.

``WarehouseCatalogState`` keeps them in three warehouse tables (DuckDB or PostgreSQL), so they
survive ephemeral runners; ``MemoryCatalogState`` keeps them for one process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

import pyarrow as pa

if TYPE_CHECKING:
    from moengage_pipelines.warehouse import Warehouse

__all__ = ["CatalogState", "MemoryCatalogState", "WarehouseCatalogState"]


class CatalogState(Protocol):
    """Remembers catalog ids by name, attribute types and the item ids pushed to each catalog."""

    def catalog_id(self, name: str) -> str | None:
        """The id of a catalog created earlier, or None."""
        ...

    def remember_catalog(self, name: str, catalog_id: str) -> None:
        """Store a catalog's id."""
        ...

    def attribute_types(self, catalog_id: str) -> dict[str, str]:
        """Attribute name → type of the attributes pushes defined on the catalog."""
        ...

    def remember_attributes(self, catalog_id: str, types: Mapping[str, str]) -> None:
        """Add attributes (name → type) defined on the catalog; known names are overwritten."""
        ...

    def item_ids(self, catalog_id: str) -> set[str]:
        """Ids of the items the catalog holds, as far as pushes know."""
        ...

    def replace_item_ids(self, catalog_id: str, item_ids: Iterable[str]) -> None:
        """Store the ids the catalog holds after a push."""
        ...


class MemoryCatalogState:
    """A ``CatalogState`` kept in memory (one process; tests)."""

    def __init__(self) -> None:
        self._catalogs: dict[str, str] = {}
        self._attributes: dict[str, dict[str, str]] = {}
        self._items: dict[str, set[str]] = {}

    def catalog_id(self, name: str) -> str | None:
        """The id of a catalog created earlier, or None."""
        return self._catalogs.get(name)

    def remember_catalog(self, name: str, catalog_id: str) -> None:
        """Store a catalog's id."""
        self._catalogs[name] = catalog_id

    def attribute_types(self, catalog_id: str) -> dict[str, str]:
        """Attribute name → type of the attributes pushes defined on the catalog."""
        return dict(self._attributes.get(catalog_id, {}))

    def remember_attributes(self, catalog_id: str, types: Mapping[str, str]) -> None:
        """Add attributes (name → type) defined on the catalog; known names are overwritten."""
        self._attributes.setdefault(catalog_id, {}).update(types)

    def item_ids(self, catalog_id: str) -> set[str]:
        """Ids of the items the catalog holds, as far as pushes know."""
        return set(self._items.get(catalog_id, set()))

    def replace_item_ids(self, catalog_id: str, item_ids: Iterable[str]) -> None:
        """Store the ids the catalog holds after a push."""
        self._items[catalog_id] = set(item_ids)


class WarehouseCatalogState:
    """A ``CatalogState`` kept in warehouse tables, so it survives ephemeral runners.

    Args:
        warehouse: An open ``Warehouse``.
        catalogs_table: Table of ``(catalog_name, catalog_id)``.
        items_table: Table of ``(catalog_id, item_id)``.
        attributes_table: Table of ``(catalog_id, attribute, type)``.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        catalogs_table: str = "moengage_catalogs",
        items_table: str = "moengage_catalog_items",
        attributes_table: str = "moengage_catalog_attributes",
    ) -> None:
        self.warehouse = warehouse
        self.catalogs_table = catalogs_table
        self.items_table = items_table
        self.attributes_table = attributes_table

    def __repr__(self) -> str:
        return f"WarehouseCatalogState({self.warehouse.describe()!r})"

    def catalog_id(self, name: str) -> str | None:
        """The id of a catalog created earlier, or None."""
        if not self.warehouse.table_exists(self.catalogs_table):
            return None
        table = self.warehouse.table_name(self.catalogs_table).sql
        result = self.warehouse.query(
            f"SELECT catalog_id FROM {table} WHERE catalog_name = $1", [name]
        )
        return result.column(0)[0].as_py() if result.num_rows else None

    def remember_catalog(self, name: str, catalog_id: str) -> None:
        """Store a catalog's id."""
        data = pa.table({"catalog_name": [name], "catalog_id": [catalog_id]})
        self.warehouse.replace_rows(self.catalogs_table, data, where={"catalog_name": name})

    def attribute_types(self, catalog_id: str) -> dict[str, str]:
        """Attribute name → type of the attributes pushes defined on the catalog."""
        if not self.warehouse.table_exists(self.attributes_table):
            return {}
        table = self.warehouse.table_name(self.attributes_table).sql
        result = self.warehouse.query(
            f"SELECT attribute, type FROM {table} WHERE catalog_id = $1", [catalog_id]
        )
        return dict(
            zip(
                result.column("attribute").to_pylist(),
                result.column("type").to_pylist(),
                strict=True,
            )
        )

    def remember_attributes(self, catalog_id: str, types: Mapping[str, str]) -> None:
        """Add attributes (name → type) defined on the catalog; known names are overwritten."""
        if not types:
            return
        merged = {**self.attribute_types(catalog_id), **types}
        names = sorted(merged)
        data = pa.table(
            {
                "catalog_id": pa.array([catalog_id] * len(names), pa.string()),
                "attribute": pa.array(names, pa.string()),
                "type": pa.array([merged[name] for name in names], pa.string()),
            }
        )
        self.warehouse.replace_rows(self.attributes_table, data, where={"catalog_id": catalog_id})

    def item_ids(self, catalog_id: str) -> set[str]:
        """Ids of the items the catalog holds, as far as pushes know."""
        if not self.warehouse.table_exists(self.items_table):
            return set()
        table = self.warehouse.table_name(self.items_table).sql
        result = self.warehouse.query(
            f"SELECT item_id FROM {table} WHERE catalog_id = $1", [catalog_id]
        )
        return {value for value in result.column(0).to_pylist() if value is not None}

    def replace_item_ids(self, catalog_id: str, item_ids: Iterable[str]) -> None:
        """Store the ids the catalog holds after a push."""
        ids = sorted(set(item_ids))
        data = pa.table(
            {
                "catalog_id": pa.array([catalog_id] * len(ids), pa.string()),
                "item_id": pa.array(ids, pa.string()),
            }
        )
        self.warehouse.replace_rows(self.items_table, data, where={"catalog_id": catalog_id})
