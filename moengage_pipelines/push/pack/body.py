"""A request body ready to send: the exact bytes, what they carry and where they came from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import orjson

__all__ = ["Body", "Endpoint"]

Endpoint = Literal["transition", "catalog_items"]


@dataclass(frozen=True, slots=True)
class Body:
    """One packed request body.

    A body is identified within its push by ``seq`` and ``piece``: packing is deterministic, so
    the same rows in the same order give the same bodies in the same places on every run, and
    a piece split off a body (after a 413) keeps its parent's ``seq`` and extends ``piece``.

    Attributes:
        endpoint: ``"transition"`` (bulk import) or ``"catalog_items"`` (catalog items).
        payload: The exact bytes put on the wire; limits are measured on these.
        users: Customer elements inside (the bulk-import user budget is spent per element).
        events: Event elements inside (the bulk-import event budget is spent per action).
        items: Catalog items inside.
        first_row: Index of the first source row in this body, for reporting.
        seq: Position of the body in its push's stream of bodies (0-based).
        piece: Which half of which half ... of body ``seq`` this is: ``""`` for the whole
            body, then one ``0`` (first half) or ``1`` (second half) per split.
    """

    endpoint: Endpoint
    payload: bytes
    users: int = 0
    events: int = 0
    items: int = 0
    first_row: int = 0
    seq: int = 0
    piece: str = ""

    @property
    def size(self) -> int:
        """Bytes on the wire."""
        return len(self.payload)

    @property
    def elements(self) -> int:
        """Elements (or catalog items) in the body."""
        return self.users + self.events + self.items

    def split(self) -> tuple[Body, Body]:
        """Split into two bodies of about half the elements each (used after a 413).

        Raises:
            ValueError: If the body holds a single element and cannot be split.
        """
        document = orjson.loads(self.payload)
        list_key = "elements" if self.endpoint == "transition" else "items"
        members = document[list_key]
        if len(members) < 2:
            raise ValueError("a body with one element cannot be split")
        middle = len(members) // 2
        halves = []
        offset = self.first_row
        for half, part in enumerate((members[:middle], members[middle:])):
            payload = orjson.dumps({**document, list_key: part})
            users = events = items = 0
            if self.endpoint == "transition":
                users = sum(1 for element in part if element.get("type") == "customer")
                events = sum(
                    len(element.get("actions") or ())
                    for element in part
                    if element.get("type") == "event"
                )
            else:
                items = len(part)
            halves.append(
                replace(
                    self, payload=payload, users=users, events=events, items=items,
                    first_row=offset, piece=f"{self.piece}{half}",
                )
            )
            offset += len(part)
        return halves[0], halves[1]
