"""MoEngage's answers to catalog item requests, read once: which items were stored, which not.

Adding items answers 200 with per-item problems inside, e.g.::

    {"status": "success", "message": {"valid": {"count": 48},
     "invalid": {"count": 2, "details": [
        {"error-id": "duplicate-item-ids", "message": "...", "document_ids": ["a", "b"]}]}}}

``duplicate-item-ids`` means the items exist already (they are then updated); any other
``error-id`` means MoEngage refused the items named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["DUPLICATE_ITEM_IDS", "CatalogAnswer", "ItemRefusal", "parse_catalog_answer"]

DUPLICATE_ITEM_IDS = "duplicate-item-ids"


@dataclass(frozen=True, slots=True)
class ItemRefusal:
    """Why MoEngage refused an item.

    Attributes:
        error_id: MoEngage's ``error-id`` (e.g. ``invalid-attribute-type``).
        message: MoEngage's message.
    """

    error_id: str
    message: str

    @property
    def rule(self) -> str:
        """The dead-letter rule of such items, e.g. ``catalog_invalid_attribute_type``."""
        return "catalog_" + self.error_id.replace("-", "_")


@dataclass(frozen=True, slots=True)
class CatalogAnswer:
    """One catalog answer, read.

    Attributes:
        duplicates: Ids of items that exist already (``duplicate-item-ids``).
        refused: Ids of items MoEngage refused, with why.
        unnamed_refusals: Items MoEngage counted as refused without naming them.
    """

    duplicates: frozenset[str] = frozenset()
    refused: dict[str, ItemRefusal] = field(default_factory=dict)
    unnamed_refusals: int = 0

    @property
    def refused_count(self) -> int:
        """Items refused, named or not."""
        return len(self.refused) + self.unnamed_refusals


def parse_catalog_answer(answer: Any) -> CatalogAnswer:
    """Read an answer to adding, updating or deleting catalog items (anything else: empty)."""
    message = answer.get("message") if isinstance(answer, dict) else None
    invalid = message.get("invalid") if isinstance(message, dict) else None
    details = invalid.get("details") if isinstance(invalid, dict) else None
    duplicates: set[str] = set()
    refused: dict[str, ItemRefusal] = {}
    unnamed = 0
    for detail in details or ():
        if not isinstance(detail, dict):
            continue
        error_id = str(detail.get("error-id") or "invalid")
        documents = [str(document) for document in detail.get("document_ids") or ()]
        if error_id == DUPLICATE_ITEM_IDS:
            duplicates.update(documents)
            continue
        refusal = ItemRefusal(error_id, str(detail.get("message") or error_id))
        for document in documents:
            refused.setdefault(document, refusal)
        count = detail.get("count")
        counted = int(count) if isinstance(count, int | float) else 0
        unnamed += max(counted - len(documents), 0)
    return CatalogAnswer(frozenset(duplicates), refused, unnamed)
