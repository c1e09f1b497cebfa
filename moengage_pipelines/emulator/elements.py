"""Validation of customer, event and device payloads, shared by bulk import and Track APIs.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from moengage_pipelines import limits
from moengage_pipelines.emulator.timeparse import attribute_type, event_epoch, utc_day

__all__ = [
    "CREATE_ONLY_ATTRIBUTES",
    "READ_ONLY_ATTRIBUTES",
    "TV_OS_TYPES",
    "CustomerOp",
    "DeviceOp",
    "Drop",
    "ElementError",
    "EventRow",
    "Parsed",
    "parse_customer",
    "parse_device",
    "parse_event",
    "unset_matches",
]

# moe_ names MoEngage itself defines; every other moe_ name is a custom name it refuses.
STANDARD_MOE_NAMES = frozenset(
    {
        "moe_wa_subscription",
        "moe_em_unsub_categories",
        "moe_sub_w",
        "moe_spam",
        "moe_unsubscribe",
        "moe_hard_bounce",
        "moe_sms_subscription",
        "moe_email_optin_status",
        "moe_gaid",
        "moe_mweb",
        "moe_mobile",
        "moe_email",
        "moe_geo_location",
        "moe_os_type",
        "moe_push_opted",
        "moe_push_provisional_opted",
    }
)
MALFORMED_MESSAGE = (
    "Could not decode the request body. The JSON was incorrect or not encoded as UTF-8."
)
ARRAY_ADD = "addValueToArrayField"
ARRAY_REMOVE = "removeValueFromArrayField"
# Case-insensitive: MoEngage's own examples send "Android" and integrations send "android".
EVENT_PLATFORMS = frozenset(p.lower() for p in limits.EVENT_PLATFORMS)
DEVICE_PLATFORMS = frozenset({"android", "ios", "web", "tv"})
DEVICE_ATTRIBUTES = frozenset(
    {
        "model",
        "platform",
        "push_id",
        "moe_push_opted",
        "moe_push_provisional_opted",
        "app_version",
        "os_version",
        "moe_gaid",
        "idfv",
    }
)
IDENTIFIERS = ("moe_mobile", "moe_email", "moe_uid")
# Track User: keys MoEngage sets only when it creates the user, and keys of Get User that no
# payload can change (``moe_ip_*`` and ``moe_rsp_*`` are prefixes).
CREATE_ONLY_ATTRIBUTES = frozenset(
    {
        "publisher_name",
        "campaign_name",
        "u_l_a",
        "cr_t",
        "moe_gaid",
        "advertising_identifier",
        "moe_mweb",
    }
)
READ_ONLY_ATTRIBUTES = frozenset(
    {"t_rev", "t_trans", "moe_dtzo", "u_s_c", "installed", "uninstall_time"}
)
READ_ONLY_PREFIXES = ("moe_ip_", "moe_rsp_")
# ``moe_os_type`` of a TV action (exact values of the Track Event reference's enum).
TV_OS_TYPES = frozenset(
    {"ROKU", "WebOS", "AndroidTV", "tvOS", "Tizen", "FireOS", "VizioTV", "Xbox"}
)
UNSET_MATCHES = ("equals", "suffix", "prefix", "contains")

REASON_BANNED_ID = "customer_id is a value MoEngage refuses"
REASON_SHORT_ID = "customer_id must be longer than one character"
REASON_MOE_PREFIX = "custom names must not start with moe_"
REASON_RESERVED = "reserved attribute name"
REASON_FUTURE = "future-dated event"
REASON_TYPE_CASE = "element type is case-sensitive"
REASON_PLATFORM = "invalid platform"
REASON_DEVICE_ATTRIBUTE = "unknown device attribute"
REASON_DEVICE_FIELD = "device element incomplete"
REASON_NO_USER = "device for a customer that does not exist"
REASON_BLOCKED = "the user is blocked (more than 1,000 devices)"
REASON_DEVICE_LIMIT = "1,001st device of the user: the user is blocked"
REASON_UPDATE_EXISTING = "update_existing_only and the customer does not exist"
REASON_READ_ONLY = "read-only attribute"
REASON_CREATE_ONLY = "create-only attribute and the customer already exists"
REASON_UNSET = "invalid unset_attributes entry"
REASON_TIMEZONE = "user_timezone_offset outside -54000..54000 seconds"
REASON_TV_OS = "platform TV without a valid moe_os_type"


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


def _identifier(values: Mapping[str, Any] | None) -> str | None:
    if not isinstance(values, Mapping):
        return None
    for name in IDENTIFIERS:
        value = values.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def customer_id_of(
    element: Mapping[str, Any],
    *,
    identity_resolution: bool = False,
    identifiers: Mapping[str, Any] | None = None,
) -> str:
    """The ``customer_id`` of a payload, or raise the documented 400."""
    if "customer_id" not in element or element["customer_id"] is None:
        if identity_resolution:
            found = _identifier(identifiers)
            if found is not None:
                return found
        raise ElementError("customer_id is not found in the payload", attribute="customer_id")
    value = element["customer_id"]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ElementError(
            "customer_id is expected to be String or Unicode String.", attribute="customer_id"
        )
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise ElementError("customer_id can not be empty Unicode String", attribute="customer_id")
    return text


def id_refusal(customer_id: str) -> str | None:
    """Why MoEngage would silently refuse a customer_id, or None."""
    stripped = customer_id.strip()
    if stripped.lower() in limits.BANNED_CUSTOMER_IDS:
        return REASON_BANNED_ID
    if len(stripped) < 2:
        return REASON_SHORT_ID
    return None


def _name_refusal(name: str, *, reserved: bool) -> str | None:
    if reserved and (name in READ_ONLY_ATTRIBUTES or name.startswith(READ_ONLY_PREFIXES)):
        return REASON_READ_ONLY
    if name.startswith("moe_") and name not in STANDARD_MOE_NAMES:
        return REASON_MOE_PREFIX
    if reserved and name in limits.RESERVED_ATTRIBUTE_NAMES:
        return REASON_RESERVED
    return None


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
        refusal = _name_refusal(name, reserved=True)
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
            refusal = _name_refusal(name, reserved=True)
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


def unset_matches(entry: dict[str, Any], name: str) -> bool:
    """Whether an ``unset_attributes`` entry names an attribute."""
    wanted: str = entry["attr"]
    if not entry.get("case_sensitive", True):
        wanted, name = wanted.lower(), name.lower()
    match entry["type"]:
        case "equals":
            return name == wanted
        case "prefix":
            return name.startswith(wanted)
        case "suffix":
            return name.endswith(wanted)
        case _:
            return wanted in name


def _offset_refused(value: Any) -> bool:
    """Whether a ``user_timezone_offset`` is not whole seconds within -54000..54000."""
    if type(value) is int:
        seconds = value
    elif isinstance(value, float | str) and not isinstance(value, bool):
        try:
            number = float(value)
        except ValueError:
            return True
        if not number.is_integer():
            return True
        seconds = int(number)
    else:
        return True
    return not limits.USER_TIMEZONE_OFFSET_MIN <= seconds <= limits.USER_TIMEZONE_OFFSET_MAX


def _tv_os_type(action: dict[str, Any]) -> Any:
    # On the action, as the reference describes; its Identity Resolution example puts it in
    # the action's attributes instead, so that place counts too.
    value = action.get("moe_os_type")
    if value is None and type(action.get("attributes")) is dict:
        value = action["attributes"].get("moe_os_type")
    return value


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
            if lowered == "tv" and _tv_os_type(action) not in TV_OS_TYPES:
                drops.append(Drop(index, "action", REASON_TV_OS, action, customer_id))
                continue
        offset = action.get("user_timezone_offset")
        if offset is not None and _offset_refused(offset):
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
                reason = _name_refusal(attr, reserved=False)
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
