"""MoEngage's rules for customer ids and attribute names, and the reasons elements are dropped.

Element-level problems are accepted with 200 and silently not processed; each ``REASON_*`` is
the reason kept with the ``Drop`` (``inspect.dropped()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from moengage_pipelines import limits
from moengage_pipelines.emulator.parsed_elements import ElementError

__all__ = [
    "ARRAY_ADD",
    "ARRAY_REMOVE",
    "CREATE_ONLY_ATTRIBUTES",
    "DEVICE_ATTRIBUTES",
    "DEVICE_PLATFORMS",
    "EVENT_PLATFORMS",
    "MALFORMED_MESSAGE",
    "READ_ONLY_ATTRIBUTES",
    "TV_OS_TYPES",
    "UNSET_MATCHES",
    "customer_id_of",
    "id_refusal",
    "name_refusal",
    "timezone_offset_refused",
    "tv_os_type",
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


def name_refusal(name: str, *, reserved: bool) -> str | None:
    """Why MoEngage would drop an attribute (``reserved``: a user attribute) or event name."""
    if reserved and (name in READ_ONLY_ATTRIBUTES or name.startswith(READ_ONLY_PREFIXES)):
        return REASON_READ_ONLY
    if name.startswith("moe_") and name not in STANDARD_MOE_NAMES:
        return REASON_MOE_PREFIX
    if reserved and name in limits.RESERVED_ATTRIBUTE_NAMES:
        return REASON_RESERVED
    return None


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


def timezone_offset_refused(value: Any) -> bool:
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


def tv_os_type(action: dict[str, Any]) -> Any:
    """The ``moe_os_type`` of a TV action, or None."""
    # On the action, as the reference describes; its Identity Resolution example puts it in
    # the action's attributes instead, so that place counts too.
    value = action.get("moe_os_type")
    if value is None and type(action.get("attributes")) is dict:
        value = action["attributes"].get("moe_os_type")
    return value
