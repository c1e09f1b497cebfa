"""One user's attributes as sent against the same user as Get User returns it.

What counts as the same value follows what MoEngage documents about storing attributes:

* numbers are kept as doubles: ``3`` and ``3.0`` are the same, and so are two doubles equal
  to 12 significant digits;
* a valid datetime (``YYYY-MM-DDTHH:mm:ss[.fff](Z|±HH:MM)`` or ``YYYY-MM-DD``) is kept as a
  point in time: texts naming the same instant, to the millisecond, are the same; any other
  text is kept as a string and compared exactly;
* booleans, strings, arrays (in order) and objects (by key) compare as they are;
* standard attributes may come back under MoEngage's internal names (``email`` as ``u_em``,
  ``first_name`` as ``u_fn``...): either spelling is accepted.

Not compared: ``platforms`` (devices, not a user attribute), attributes sent as null (a
push leaves them out unless ``send_nulls``), and the create-only keys MoEngage applies only
when it creates the user (``publisher_name``, ``u_l_a``...), whose later values it drops.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

__all__ = ["INTERNAL_NAMES", "NOT_COMPARED", "Mismatch", "compare_user", "same_value"]

Reason = Literal["user_not_found", "missing", "different"]

# Standard attributes: the plain API key a push sends -> MoEngage's internal key (data overview).
INTERNAL_NAMES: dict[str, str] = {
    "name": "u_n",
    "first_name": "u_fn",
    "last_name": "u_ln",
    "gender": "u_gd",
    "email": "u_em",
    "mobile": "u_mb",
    "birthday": "u_bd",
}
_PLAIN_NAMES = {internal: plain for plain, internal in INTERNAL_NAMES.items()}

NOT_COMPARED = frozenset(
    {
        "platforms",
        # Create-only keys: applied by the payload that creates the user, dropped later.
        "publisher_name",
        "campaign_name",
        "u_l_a",
        "cr_t",
        "moe_gaid",
        "advertising_identifier",
        "moe_mweb",
    }
)

_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2}))?$")
_FRACTION = re.compile(r"\.(\d+)")
_SIGNIFICANT = 1e-12


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One attribute MoEngage does not hold as sent.

    Attributes:
        customer_id: The user.
        attribute: The attribute's name as sent (``customer_id`` when the user is missing).
        reason: ``user_not_found`` (Get User does not know the user), ``missing`` (the user
            has no such attribute) or ``different`` (another value).
        sent: The value sent.
        found: The value MoEngage holds (None when missing).
    """

    customer_id: str
    attribute: str
    reason: Reason
    sent: Any
    found: Any = None


def _instant(value: Any) -> int | None:
    """Milliseconds since the epoch of a documented datetime text, else None."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None
    # Python reads at most 6 fraction digits; milliseconds are all that is compared.
    text = _FRACTION.sub(lambda match: "." + match.group(1)[:6].ljust(6, "0"), value, count=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:  # month 15 and the like: MoEngage keeps those as strings
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return math.floor(moment.timestamp() * 1000)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def same_value(sent: Any, found: Any) -> bool:
    """Whether MoEngage holding ``found`` means it kept ``sent`` (see the module rules)."""
    sent_number, found_number = _number(sent), _number(found)
    if sent_number is not None or found_number is not None:
        if sent_number is None or found_number is None:
            return False
        return math.isclose(sent_number, found_number, rel_tol=_SIGNIFICANT, abs_tol=0.0)
    if isinstance(sent, str) and isinstance(found, str):
        if sent == found:
            return True
        sent_instant = _instant(sent)
        return sent_instant is not None and sent_instant == _instant(found)
    if isinstance(sent, list) and isinstance(found, list):
        return len(sent) == len(found) and all(map(same_value, sent, found))
    if isinstance(sent, dict) and isinstance(found, dict):
        return sent.keys() == found.keys() and all(same_value(sent[k], found[k]) for k in sent)
    return type(sent) is type(found) and sent == found


def _held(found: dict[str, Any], name: str) -> tuple[bool, Any]:
    """Whether MoEngage holds ``name`` (in either spelling), and its value."""
    for spelling in (name, INTERNAL_NAMES.get(name), _PLAIN_NAMES.get(name)):
        if spelling is not None and spelling in found:
            return True, found[spelling]
    return False, None


def compare_user(
    customer_id: str, sent: dict[str, Any], found: dict[str, Any]
) -> tuple[int, list[Mismatch]]:
    """Compare the attributes sent for one user with those Get User returned.

    Args:
        customer_id: The user.
        sent: The ``attributes`` of the customer element sent.
        found: Get User's ``user_attributes`` for the user.

    Returns:
        How many attributes were compared, and the mismatches among them.
    """
    compared = 0
    mismatches: list[Mismatch] = []
    for name, value in sent.items():
        if name in NOT_COMPARED or value is None:
            continue
        compared += 1
        present, held = _held(found, name)
        if not present:
            mismatches.append(Mismatch(customer_id, name, "missing", value))
        elif not same_value(value, held):
            mismatches.append(Mismatch(customer_id, name, "different", value, held))
    return compared, mismatches
