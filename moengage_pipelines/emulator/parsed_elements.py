"""What a customer, event or device payload contributes once validated, and why parts were refused.

``ElementError`` is a structural problem answered with a documented 400; a ``Drop`` is
something accepted with 200 but silently not processed (kept, with its reason, for
inspection); the ``*Op``/``EventRow`` values are what the store applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CustomerOp", "DeviceOp", "Drop", "ElementError", "EventRow", "Parsed"]


class ElementError(Exception):
    """A structural problem answered with 400."""

    def __init__(
        self, message: str, *, type: str = "MissingAttributeError", attribute: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.type = type
        self.attribute = attribute


@dataclass(slots=True)
class Drop:
    """Something accepted but not processed, and why."""

    index: int
    kind: str  # "element", "action", "attribute", "unset" or "pair"
    reason: str
    element: Any
    customer_id: str | None = None


@dataclass(slots=True)
class CustomerOp:
    """An accepted customer update."""

    index: int
    customer_id: str
    attributes: dict[str, Any]
    types: dict[str, str]
    add_to_arrays: dict[str, list] = field(default_factory=dict)
    remove_from_arrays: dict[str, list] = field(default_factory=dict)
    platforms: list[dict[str, Any]] = field(default_factory=list)
    update_existing_only: bool = False
    create_only: dict[str, Any] = field(default_factory=dict)
    unset: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class EventRow:
    """One accepted action of an event element.

    ``document`` is the action as sent (its ``attributes`` an object, refused names removed).
    """

    index: int
    customer_id: str
    device_id: str | None
    action: str
    platform: str | None
    current_time: float
    day: str
    document: dict[str, Any]


@dataclass(slots=True)
class DeviceOp:
    """An accepted device update."""

    index: int
    customer_id: str
    device_id: str
    attributes: dict[str, Any]


@dataclass(slots=True)
class Parsed:
    """What one payload contributes."""

    customers: list[CustomerOp] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    devices: list[DeviceOp] = field(default_factory=list)
    drops: list[Drop] = field(default_factory=list)
