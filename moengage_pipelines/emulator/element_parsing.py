"""Validation of customer, event and device payloads, shared by bulk import and the Track APIs.

MoEngage separates two kinds of problems, and so does this module:

* **Structural** problems (missing ``customer_id``, empty ``actions``, an element ``type`` that
  is not customer/event/device...) reject the whole request with a documented 400:
  ``ElementError`` carries the ``type``, ``message`` and ``attribute``.
* **Element-level** problems are accepted with 200 and silently not processed: banned
  ``customer_id`` values, ``moe_``-prefixed custom names, reserved and read-only attribute
  names, future-dated events, a ``type`` in the wrong case (``Customer``), an invalid platform,
  a TV action without its ``moe_os_type``, a ``user_timezone_offset`` out of range, unknown
  device attributes. Each becomes a ``Drop`` with its reason, kept for inspection.

Create-only attributes and ``unset_attributes`` depend on whether the user exists, so they
are carried on the ``CustomerOp`` and settled when the store applies it.
"""

from __future__ import annotations

from typing import Any

from moengage_pipelines.emulator.element_rules import (
    ARRAY_ADD,
    ARRAY_REMOVE,
    CREATE_ONLY_ATTRIBUTES,
    DEVICE_ATTRIBUTES,
    DEVICE_PLATFORMS,
    EVENT_PLATFORMS,
    MALFORMED_MESSAGE,
    REASON_DEVICE_ATTRIBUTE,
    REASON_DEVICE_FIELD,
    REASON_FUTURE,
    REASON_MOE_PREFIX,
    REASON_PLATFORM,
    REASON_TIMEZONE,
    REASON_TV_OS,
    REASON_UNSET,
    TV_OS_TYPES,
    UNSET_MATCHES,
    customer_id_of,
    id_refusal,
    name_refusal,
    timezone_offset_refused,
    tv_os_type,
)
from moengage_pipelines.emulator.parsed_elements import (
    CustomerOp,
    DeviceOp,
    Drop,
    ElementError,
    EventRow,
    Parsed,
)
from moengage_pipelines.emulator.timeparse import attribute_type, event_epoch, utc_day

__all__ = ["parse_customer", "parse_device", "parse_event"]


def parse_customer(
    element: Any, index: int, out: Parsed, *, identity_resolution: bool = False
) -> None:
    """Validate one customer payload into ``out``.

    Raises:
        ElementError: On a structural problem.
    """
    attributes = element.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, dict):
        raise ElementError(
            "attributes is expected to be Object", type="AttributeError", attribute="attributes"
        )
    customer_id = customer_id_of(
        element, identity_resolution=identity_resolution, identifiers=attributes
    )
    refusal = id_refusal(customer_id)
    if refusal:
        out.drops.append(Drop(index, "element", refusal, element, customer_id))
        return
    add = attributes.get(ARRAY_ADD) or {}
    remove = attributes.get(ARRAY_REMOVE) or {}
    if not isinstance(add, dict) or not isinstance(remove, dict):
        raise ElementError(
            f"{ARRAY_ADD} is expected to be Object", type="ArrayFieldError", attribute=ARRAY_ADD
        )
    for name in add:
        if name in remove:
            raise ElementError(
                f"Cannot add and remove '{name}' at the same time",
                type="ArrayFieldError",
                attribute=ARRAY_ADD,
            )
    platforms = element.get("platforms")
    kept: dict[str, Any] = {}
    types: dict[str, str] = {}
    create_only: dict[str, Any] = {}
    for name, value in attributes.items():
        if name in (ARRAY_ADD, ARRAY_REMOVE):
            continue
        if name == "platforms" and isinstance(value, list):
            platforms = value
            continue
        refusal = name_refusal(name, reserved=True)
        if refusal:
            out.drops.append(Drop(index, "attribute", refusal, {name: value}, customer_id))
            continue
        if name in CREATE_ONLY_ATTRIBUTES:
            create_only[name] = value
            continue
        kept[name] = value
        types[name] = attribute_type(value)
    for operator in (add, remove):
        for name in list(operator):
            refusal = name_refusal(name, reserved=True)
            if refusal:
                out.drops.append(
                    Drop(index, "attribute", refusal, {name: operator.pop(name)}, customer_id)
                )
    out.customers.append(
        CustomerOp(
            index,
            customer_id,
            kept,
            types,
            {k: v if isinstance(v, list) else [v] for k, v in add.items()},
            {k: v if isinstance(v, list) else [v] for k, v in remove.items()},
            [p for p in platforms if isinstance(p, dict)] if isinstance(platforms, list) else [],
            element.get("update_existing_only") is True,
            create_only,
            _unset_entries(element, index, customer_id, out),
        )
    )


def _unset_entries(
    element: dict[str, Any], index: int, customer_id: str, out: Parsed
) -> list[dict[str, Any]]:
    """The valid entries of a legacy ``unset_attributes`` list; the others are dropped.

    An entry is ``{"type": equals|suffix|prefix|contains, "attr": name, "case_sensitive":
    bool}`` (``case_sensitive`` defaults to true).
    """
    entries = element.get("unset_attributes")
    if entries is None:
        return []
    if not isinstance(entries, list):
        drop = Drop(index, "unset", REASON_UNSET, {"unset_attributes": entries}, customer_id)
        out.drops.append(drop)
        return []
    valid = []
    for entry in entries:
        if (
            isinstance(entry, dict)
            and entry.get("type") in UNSET_MATCHES
            and isinstance(entry.get("attr"), str)
            and entry["attr"]
            and isinstance(entry.get("case_sensitive", True), bool)
        ):
            valid.append(entry)
        else:
            out.drops.append(Drop(index, "unset", REASON_UNSET, entry, customer_id))
    return valid


def parse_event(
    element: Any,
    index: int,
    out: Parsed,
    *,
    now: float,
    future_tolerance: float,
    bulk: bool,
    identity_resolution: bool = False,
) -> None:
    """Validate one event payload (all its actions) into ``out``.

    Raises:
        ElementError: On a structural problem.
    """
    customer_id = element.get("customer_id")
    # Fast path for the usual non-empty string; anything else gets the full check (and 400).
    if type(customer_id) is not str or not customer_id.strip():
        customer_id = customer_id_of(
            element,
            identity_resolution=identity_resolution,
            identifiers=element.get("user_identifiers"),
        )
    actions = element.get("actions")
    if type(actions) is not list or not actions:
        raise ElementError("actions can not be empty Array", attribute="actions")
    refusal = id_refusal(customer_id)
    device_id = element.get("device_id")
    # Without a device_id MoEngage maps the event to the device named like the customer.
    device_id = str(device_id) if device_id not in (None, "") else customer_id
    latest = now + future_tolerance
    rows: list[EventRow] = []
    drops = out.drops
    for action in actions:
        if type(action) is not dict:
            raise ElementError(MALFORMED_MESSAGE, type="Malformed JSON", attribute="action")
        name = action.get("action")
        if type(name) is not str:
            if name is None:
                message = (
                    "action cannot be empty Unicode string"
                    if bulk
                    else "action is not found in the payload"
                )
                raise ElementError(message, attribute="action")
            raise ElementError(MALFORMED_MESSAGE, type="Malformed JSON", attribute="action")
        if not name.strip():
            raise ElementError("action cannot be empty Unicode string", attribute="action")
        if refusal:
            continue  # the whole element is dropped below; structure still checked first
        if name.startswith("moe_"):
            drops.append(Drop(index, "action", REASON_MOE_PREFIX, action, customer_id))
            continue
        platform = action.get("platform")
        if platform is not None:
            lowered = platform.lower() if type(platform) is str else None
            if lowered not in EVENT_PLATFORMS:
                drops.append(Drop(index, "action", REASON_PLATFORM, action, customer_id))
                continue
            if lowered == "tv" and tv_os_type(action) not in TV_OS_TYPES:
                drops.append(Drop(index, "action", REASON_TV_OS, action, customer_id))
                continue
        offset = action.get("user_timezone_offset")
        if offset is not None and timezone_offset_refused(offset):
            drops.append(Drop(index, "action", REASON_TIMEZONE, action, customer_id))
            continue
        epoch = event_epoch(action.get("current_time"))
        if epoch is None:
            epoch = event_epoch(action.get("user_time"))
        if epoch is None or not -62_135_596_800 < epoch < 253_402_300_800:  # years 1..9999
            epoch = now  # no usable time: MoEngage uses the receive time
        if epoch > latest:
            drops.append(Drop(index, "action", REASON_FUTURE, action, customer_id))
            continue
        document = action
        attributes = action.get("attributes")
        if type(attributes) is not dict:
            document = {**action, "attributes": {}}
        # The join is a fast pre-check: most actions have no moe_ name at all.
        elif "moe_" in "\0".join(attributes) and any(a.startswith("moe_") for a in attributes):
            kept = {}
            for attr, value in attributes.items():
                reason = name_refusal(attr, reserved=False)
                if reason:
                    drops.append(Drop(index, "attribute", reason, {attr: value}, customer_id))
                else:
                    kept[attr] = value
            document = {**action, "attributes": kept}
        rows.append(
            EventRow(index, customer_id, device_id, name, platform, epoch, utc_day(epoch), document)
        )
    if refusal:
        drops.append(Drop(index, "element", refusal, element, customer_id))
        return
    out.events.extend(rows)


def parse_device(element: Any, index: int, out: Parsed, *, bulk: bool) -> None:
    """Validate one device payload into ``out``.

    On the Track Device API a missing field is a 400; inside a bulk import the element is
    dropped instead (bulk import documents only its own structural 400s).

    Raises:
        ElementError: On a structural problem.
    """
    if not bulk and element.get("customer_id") is None:
        # The Track Device reference quotes the field name in this one message.
        raise ElementError("'customer_id' is not found in the payload", attribute="customer_id")
    customer_id = customer_id_of(element)
    problem: ElementError | None = None
    attributes = element.get("attributes")
    device_id = element.get("device_id")
    if device_id in (None, ""):
        problem = ElementError("'device_id' is not found in the payload", attribute="device_id")
    elif not isinstance(attributes, dict):
        problem = ElementError("'attributes' is not found in the payload", attribute="attributes")
    elif attributes.get("platform") in (None, ""):
        problem = ElementError("'platform' is not found in payload", attribute="platform")
    elif (
        not isinstance(attributes["platform"], str)
        or attributes["platform"].lower() not in DEVICE_PLATFORMS
    ):
        problem = ElementError(
            "'platform' is not a valid platform.", type="ValueError", attribute="platform"
        )
    elif attributes.get("push_id") in (None, ""):
        problem = ElementError("'push_id' is not found in payload", attribute="push_id")
    if problem is not None:
        if not bulk:
            raise problem
        reason = (
            REASON_PLATFORM
            if problem.attribute == "platform" and problem.type == "ValueError"
            else (f"{REASON_DEVICE_FIELD}: {problem.message}")
        )
        out.drops.append(Drop(index, "element", reason, element, customer_id))
        return
    refusal = id_refusal(customer_id)
    if refusal:
        out.drops.append(Drop(index, "element", refusal, element, customer_id))
        return
    kept = {}
    for name, value in attributes.items():
        if name in DEVICE_ATTRIBUTES:
            kept[name] = value
        else:
            out.drops.append(
                Drop(index, "attribute", REASON_DEVICE_ATTRIBUTE, {name: value}, customer_id)
            )
    out.devices.append(DeviceOp(index, customer_id, str(device_id), kept))
