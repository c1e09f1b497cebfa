"""Catalogs and their items, kept in the emulator's database next to users and events.

The tables live in the shared ``Store`` (``Store.add_tables``), so a file database keeps them
across restarts and ``reset()`` empties them with the rest of the received data. Writes are
synchronous, as MoEngage's catalog writes are: a search right after an add sees the item.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from moengage_pipelines.emulator.store import Store

__all__ = [
    "AttributeLimitError",
    "Catalog",
    "CatalogLimitError",
    "CatalogNameTakenError",
    "CatalogStore",
    "StoredItem",
    "iso_time",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS catalogs (
    workspace TEXT NOT NULL,
    catalog_id TEXT NOT NULL,
    name TEXT NOT NULL,
    price_currency TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (workspace, catalog_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS catalogs_name ON catalogs (workspace, name);
CREATE TABLE IF NOT EXISTS catalog_items (
    workspace TEXT NOT NULL,
    catalog_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (workspace, catalog_id, item_id)
);
"""
_TABLES = ("catalogs", "catalog_items")
_CHUNK = 500


class CatalogNameTakenError(Exception):
    """A catalog of that name exists in the workspace."""


class CatalogLimitError(Exception):
    """The workspace has its maximum number of catalogs."""


class AttributeLimitError(Exception):
    """The catalog would have more attributes than allowed."""


def iso_time(epoch: float) -> str:
    """``2024-05-10T07:03:00.18Z``: UTC with hundredths of a second, as MoEngage shows it."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 10_000:02d}Z"


@dataclass(frozen=True, slots=True)
class Catalog:
    """One catalog.

    Attributes:
        catalog_id: 24 hex characters.
        name: Unique name within the workspace.
        price_currency: ISO 4217 code.
        attributes: Attribute name to type, in definition order.
        created_at: Epoch seconds.
        updated_at: Epoch seconds of the last schema change.
    """

    catalog_id: str
    name: str
    price_currency: str
    attributes: dict[str, str]
    created_at: float
    updated_at: float

    @property
    def feed_id(self) -> str:
        """Id of the catalog's feed (derived from the catalog id; MoEngage shows both)."""
        return hashlib.sha256(f"feed/{self.catalog_id}".encode()).hexdigest()[:24]

    def to_dict(self) -> dict[str, Any]:
        """Plain representation (inspection API)."""
        return {
            "catalog_id": self.catalog_id,
            "feed_id": self.feed_id,
            "name": self.name,
            "price_currency": self.price_currency,
            "attributes": [{"name": n, "type": t} for n, t in self.attributes.items()],
            "created_at": iso_time(self.created_at),
            "updated_at": iso_time(self.updated_at),
        }


@dataclass(frozen=True, slots=True)
class StoredItem:
    """One item: its attributes (``id`` included) and times."""

    item_id: str
    attributes: dict[str, Any]
    created_at: float
    updated_at: float


def _catalog(row: tuple) -> Catalog:
    catalog_id, name, currency, attributes, created, updated = row
    return Catalog(catalog_id, name, currency, dict(orjson.loads(attributes)), created, updated)


class CatalogStore:
    """Catalog tables of one emulator's store (a thin view; construct it freely).

    Args:
        store: The emulator's store.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    @staticmethod
    def install(store: Store) -> None:
        """Create the catalog tables (once, when the endpoints are registered)."""
        store.add_tables(_SCHEMA, cleared=_TABLES)

    # -- catalogs -----------------------------------------------------------------------------

    def catalogs(self, workspace: str) -> list[Catalog]:
        """Catalogs of a workspace, oldest first."""
        rows = self._store.fetch(
            "SELECT catalog_id, name, price_currency, attributes, created_at, updated_at "
            "FROM catalogs WHERE workspace = ? ORDER BY created_at, rowid",
            (workspace,),
        )
        return [_catalog(row) for row in rows]

    def get(self, workspace: str, catalog_id: str) -> Catalog | None:
        """A catalog by id, or None (ids of other workspaces are not found)."""
        rows = self._store.fetch(
            "SELECT catalog_id, name, price_currency, attributes, created_at, updated_at "
            "FROM catalogs WHERE workspace = ? AND catalog_id = ?",
            (workspace, catalog_id),
        )
        return _catalog(rows[0]) if rows else None

    def create(
        self,
        workspace: str,
        name: str,
        price_currency: str,
        attributes: dict[str, str],
        *,
        now: float,
        max_catalogs: int,
    ) -> Catalog:
        """Store a new catalog, checking name and count in the same transaction.

        The id is 8 hex digits of the creation time and 16 of a hash: it looks like
        MoEngage's (a 24-hex object id) and differs between workspaces, names and creations.

        Raises:
            CatalogNameTakenError: The name exists (compared exactly).
            CatalogLimitError: The workspace already has ``max_catalogs`` catalogs.
        """
        with self._store.transaction() as db:
            if db.execute(
                "SELECT 1 FROM catalogs WHERE workspace = ? AND name = ?", (workspace, name)
            ).fetchone():
                raise CatalogNameTakenError(name)
            count = db.execute(
                "SELECT COUNT(*) FROM catalogs WHERE workspace = ?", (workspace,)
            ).fetchone()[0]
            if count >= max_catalogs:
                raise CatalogLimitError(name)
            sequence = db.execute("SELECT COUNT(*) FROM catalogs").fetchone()[0]
            digest = hashlib.sha256(f"{workspace}\x00{name}\x00{sequence}\x00{now!r}".encode())
            catalog_id = f"{int(now) & 0xFFFFFFFF:08x}{digest.hexdigest()[:16]}"
            db.execute(
                "INSERT INTO catalogs (workspace, catalog_id, name, price_currency, attributes, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                (
                    workspace,
                    catalog_id,
                    name,
                    price_currency,
                    orjson.dumps(list(attributes.items())).decode(),
                    now,
                    now,
                ),
            )
        return Catalog(catalog_id, name, price_currency, dict(attributes), now, now)

    def add_attributes(
        self,
        workspace: str,
        catalog_id: str,
        definitions: dict[str, str],
        *,
        now: float,
        max_attributes: int,
    ) -> list[str]:
        """Append attributes; names already defined are ignored (types are immutable).

        Returns:
            The names that already existed.

        Raises:
            AttributeLimitError: The schema would exceed ``max_attributes`` (nothing added).
        """
        with self._store.transaction() as db:
            row = db.execute(
                "SELECT attributes FROM catalogs WHERE workspace = ? AND catalog_id = ?",
                (workspace, catalog_id),
            ).fetchone()
            current = dict(orjson.loads(row[0])) if row else {}
            duplicates = [name for name in definitions if name in current]
            new = {n: t for n, t in definitions.items() if n not in current}
            if len(current) + len(new) > max_attributes:
                raise AttributeLimitError(catalog_id)
            if new:
                db.execute(
                    "UPDATE catalogs SET attributes = ?, updated_at = ? "
                    "WHERE workspace = ? AND catalog_id = ?",
                    (
                        orjson.dumps(list({**current, **new}.items())).decode(),
                        now,
                        workspace,
                        catalog_id,
                    ),
                )
        return duplicates

    # -- items --------------------------------------------------------------------------------

    def items(
        self, workspace: str, catalog_id: str, ids: Iterable[str] | None = None
    ) -> dict[str, StoredItem]:
        """Items of a catalog by id (all of them, or those among ``ids``)."""
        base = (
            "SELECT item_id, attributes, created_at, updated_at FROM catalog_items "
            "WHERE workspace = ? AND catalog_id = ?"
        )
        if ids is None:
            rows = self._store.fetch(base + " ORDER BY created_at, rowid", (workspace, catalog_id))
        else:
            wanted = list(dict.fromkeys(ids))
            rows = []
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                rows += self._store.fetch(
                    f"{base} AND item_id IN ({marks})", (workspace, catalog_id, *chunk)
                )
        return {
            item_id: StoredItem(item_id, orjson.loads(attributes), created, updated)
            for item_id, attributes, created, updated in rows
        }

    def item_count(self, workspace: str, catalog_id: str) -> int:
        """Number of items of a catalog."""
        return self._store.fetch(
            "SELECT COUNT(*) FROM catalog_items WHERE workspace = ? AND catalog_id = ?",
            (workspace, catalog_id),
        )[0][0]

    @staticmethod
    def _existing(
        db: sqlite3.Connection, workspace: str, catalog_id: str, ids: list[str]
    ) -> dict[str, tuple[dict[str, Any], float]]:
        found: dict[str, tuple[dict[str, Any], float]] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            for item_id, attributes, created in db.execute(
                "SELECT item_id, attributes, created_at FROM catalog_items "
                f"WHERE workspace = ? AND catalog_id = ? AND item_id IN ({marks})",
                (workspace, catalog_id, *chunk),
            ):
                found[item_id] = (orjson.loads(attributes), created)
        return found

    def write_items(
        self,
        workspace: str,
        catalog_id: str,
        ids: list[str],
        decide: Callable[[set[str]], list[tuple[str, dict[str, Any]]]],
        *,
        now: float,
        merge: bool,
    ) -> None:
        """Decide and write items in one transaction, so concurrent requests cannot interleave.

        Args:
            workspace: The workspace.
            catalog_id: The catalog.
            ids: Ids the request names.
            decide: Given those of ``ids`` already in the catalog, returns ``(id, attributes)``
                to write.
            now: Write time (``last_updated``; ``creation_date`` of new items).
            merge: Merge into existing items (update) instead of writing new ones (add).
        """
        with self._store.transaction() as db:
            existing = self._existing(db, workspace, catalog_id, ids)
            rows = []
            for item_id, attributes in decide(set(existing)):
                before, created = existing.get(item_id, ({}, now)) if merge else ({}, now)
                merged = {**before, **attributes, "id": item_id}
                rows.append(
                    (workspace, catalog_id, item_id, orjson.dumps(merged).decode(), created, now)
                )
            db.executemany(
                "INSERT OR REPLACE INTO catalog_items (workspace, catalog_id, item_id, attributes, "
                "created_at, updated_at) VALUES (?,?,?,?,?,?)",
                rows,
            )

    def delete_items(self, workspace: str, catalog_id: str, ids: list[str]) -> int:
        """Delete items; returns how many existed."""
        deleted = 0
        with self._store.transaction() as db:
            for item_id in ids:
                deleted += db.execute(
                    "DELETE FROM catalog_items WHERE workspace = ? AND catalog_id = ? "
                    "AND item_id = ?",
                    (workspace, catalog_id, item_id),
                ).rowcount
        return deleted
