"""MoEngage's catalog rules: currencies, attribute types, mandatory attributes, item checks.

Everything here is pure (no storage): the catalog endpoints call these functions and store
what they accept. Wording of error codes and messages follows the catalog API reference.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ATTRIBUTE_TYPES",
    "CURRENCIES",
    "ERROR_DATATYPE",
    "ERROR_DUPLICATE_IDS",
    "ERROR_INVALID_ATTRIBUTES",
    "ERROR_ITEM_NOT_FOUND",
    "ERROR_MISSING_MANDATORY",
    "ERROR_UNDEFINED_ATTRIBUTE",
    "MANDATORY_ATTRIBUTES",
    "ItemProblem",
    "Outcome",
    "check_new_item",
    "check_update",
    "convert",
    "missing_mandatory",
]

# The create-catalog schema's ``price_currency`` enum, in the spec's order.
_CURRENCY_CODES = (
    "USD CAD EUR AED AFN ALL AMD AOA ARS AUD AZN BAM BDT BGN BHD BIF BND BOB BRL BWP BYR BZD "
    "CDF CHF CLP CNY COP CRC CVE CZK DJF DKK DOP DZD EEK EGP ERN ETB GBP GEL GHS GNF GTQ HKD "
    "HNL HRK HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KHR KMF KRW KWD KZT LBP LKR LTL LVL "
    "LYD MAD MDL MGA MKD MMK MOP MUR MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PHP PKR "
    "PLN PYG QAR RON RSD RUB RWF SAR SDG SEK SGD SOS SYP THB TND TOP TRY TTD TWD TZS UAH UGX "
    "UYU UZS VEF VND XAF XOF YER ZAR ZMK"
)
CURRENCIES = frozenset(_CURRENCY_CODES.split())
# Listed in the order MoEngage's "invalid data type" message lists them.
ATTRIBUTE_TYPES = ("bool", "double", "string", "datetime", "geopoint")
MANDATORY_ATTRIBUTES = ("id", "title", "link", "image_link")

ERROR_DUPLICATE_IDS = "duplicate-item-ids"
ERROR_MISSING_MANDATORY = "missing-mandatory-attributes"
ERROR_DATATYPE = "invalid-datatype-attribute"
ERROR_UNDEFINED_ATTRIBUTE = "invalid-item-attribute"
ERROR_ITEM_NOT_FOUND = "item-not-found"
ERROR_INVALID_ATTRIBUTES = "invalid-attributes"

_DUPLICATE_MESSAGE = (
    "Item ids within a catalog must be unique. Please ensure your request contains unique item "
    "ids for the given catalog and try again."
)
_MISSING_ITEM_MESSAGE = (
    "Your must include mandatory attributes: id, title, link, and image_link with string data "
    "type and try again."
)
_UNDEFINED_MESSAGE = (
    "The provided item attribute is not part of the defined catalog schema. Please check your "
    "catalog schema and try again. Undefined attributes: {names}"
)
_DATATYPE_MESSAGE = (
    "The provided item attribute {name} with value {value} can't be converted to the data type "
    "{type} as defined in the catalog schema."
)
_NOT_FOUND_MESSAGE = (
    "Item with id {id} not found in the catalog. Please check the item id and try again."
)
_NOT_DEFINED_MESSAGE = "Some of the attributes are not defined in the catalog schema: ({names})"
_ID_IMMUTABLE_MESSAGE = "Item id is the primary key of an item and cannot be changed: ({names})"
_MANDATORY_EMPTY_MESSAGE = "Mandatory attributes must be non-empty strings: ({names})"

# ISO 8601 date and time with an offset (Z or ±HH:mm); fractions of a second optional.
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$")
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


class _UnconvertibleError(Exception):
    """A value that does not fit an attribute type."""


def _double(value: Any) -> float:
    if isinstance(value, bool):
        raise _UnconvertibleError
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        number = float(value)
    else:
        raise _UnconvertibleError
    if not math.isfinite(number):
        raise _UnconvertibleError
    return number


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _UnconvertibleError


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        # Numbers convert to their JSON text; booleans, null, lists and objects do not.
        return str(value)
    raise _UnconvertibleError


def _datetime(value: Any) -> str:
    if not isinstance(value, str) or not _DATETIME.match(value.strip()):
        raise _UnconvertibleError
    month, day = int(value[5:7]), int(value[8:10])
    hour, minute = int(value[11:13]), int(value[14:16])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59):
        raise _UnconvertibleError
    return value.strip()


def _geopoint(value: Any) -> str:
    if not isinstance(value, str) or value.count(",") != 1:
        raise _UnconvertibleError
    lat_text, lon_text = value.split(",")
    if not (_NUMBER.match(lat_text) and _NUMBER.match(lon_text)):
        raise _UnconvertibleError
    lat, lon = float(lat_text), float(lon_text)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise _UnconvertibleError
    return f"{lat_text.strip()},{lon_text.strip()}"


_CONVERTERS = {
    "string": _string,
    "double": _double,
    "bool": _bool,
    "datetime": _datetime,
    "geopoint": _geopoint,
}


def convert(value: Any, attribute_type: str) -> tuple[bool, Any]:
    """Convert an item value to its attribute's type.

    Rules: ``string`` takes strings and numbers (as their JSON text); ``double`` takes
    numbers and numeric strings; ``bool`` takes booleans and ``"true"``/``"false"`` in any
    case; ``datetime`` takes ISO 8601 date-times with ``Z`` or a ``±HH:mm`` offset (kept as
    sent); ``geopoint`` takes ``"lat,lon"`` within -90..90 and -180..180. ``null``, lists and
    objects fit no type.

    Returns:
        ``(True, converted)`` or ``(False, None)``.
    """
    try:
        return True, _CONVERTERS[attribute_type](value)
    except _UnconvertibleError:
        return False, None


def missing_mandatory(attributes: Iterable[Mapping[str, Any]]) -> list[str]:
    """Mandatory attributes absent from a schema or not declared as ``string``."""
    declared = {a.get("name"): a.get("type") for a in attributes}
    return [name for name in MANDATORY_ATTRIBUTES if declared.get(name) != "string"]


def _shown(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 100 else text[:97] + "..."


@dataclass(frozen=True, slots=True)
class ItemProblem:
    """Why one item of a request was not applied.

    Attributes:
        error_id: MoEngage's ``error-id`` (``duplicate-item-ids``...).
        message: The message of that error, naming the attributes involved.
        document_id: The item's id, or ``items[<position>]`` when it has no usable id.
    """

    error_id: str
    message: str
    document_id: str


@dataclass(slots=True)
class Outcome:
    """Valid and invalid items of one add/update request."""

    valid: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    problems: list[ItemProblem] = field(default_factory=list)

    def to_message(self) -> dict[str, Any]:
        """The ``{"message": {"valid", "invalid"}}`` answer.

        Problems are grouped by ``(error-id, message)`` in order of first appearance; each
        group lists its count and document ids. Every invalid item is counted once.
        """
        groups: dict[tuple[str, str], list[str]] = {}
        for problem in self.problems:
            groups.setdefault((problem.error_id, problem.message), []).append(problem.document_id)
        details = [
            {"error-id": error_id, "message": message, "count": len(ids), "document_ids": ids}
            for (error_id, message), ids in groups.items()
        ]
        return {
            "message": {
                "valid": {"count": len(self.valid)},
                "invalid": {"count": len(self.problems), "details": details},
            }
        }


def _document_id(item: Mapping[str, Any], position: int) -> str:
    item_id = item.get("id")
    return item_id if isinstance(item_id, str) and item_id else f"items[{position}]"


def _convert_all(
    attributes: Mapping[str, Any], schema: Mapping[str, str], error_id: str, document_id: str
) -> dict[str, Any] | ItemProblem:
    """Every value converted to its defined type, or the first that does not convert."""
    converted: dict[str, Any] = {}
    for name, value in attributes.items():
        ok, result = convert(value, schema[name])
        if not ok:
            return ItemProblem(
                error_id,
                _DATATYPE_MESSAGE.format(name=name, value=_shown(value), type=schema[name]),
                document_id,
            )
        converted[name] = result
    return converted


def check_new_item(
    item: Mapping[str, Any],
    position: int,
    schema: Mapping[str, str],
    taken: set[str],
) -> tuple[str, dict[str, Any]] | ItemProblem:
    """Check one item of an add-items request.

    The first problem found decides the ``error-id``, in this order: mandatory attributes
    missing or not non-empty strings; an id already in the catalog or earlier in the
    request; attributes the schema does not define; values that do not convert.

    Args:
        item: The item document.
        position: Its index in the request.
        schema: Attribute name to type.
        taken: Ids already in the catalog or accepted earlier in this request (updated).

    Returns:
        ``(id, converted attributes)`` or the problem.
    """
    document_id = _document_id(item, position)
    if any(not isinstance(item.get(n), str) or not item[n] for n in MANDATORY_ATTRIBUTES):
        return ItemProblem(ERROR_MISSING_MANDATORY, _MISSING_ITEM_MESSAGE, document_id)
    item_id = item["id"]
    if item_id in taken:
        return ItemProblem(ERROR_DUPLICATE_IDS, _DUPLICATE_MESSAGE, document_id)
    undefined = sorted(name for name in item if name not in schema)
    if undefined:
        return ItemProblem(
            ERROR_UNDEFINED_ATTRIBUTE,
            _UNDEFINED_MESSAGE.format(names=", ".join(undefined)),
            document_id,
        )
    converted = _convert_all(item, schema, ERROR_DATATYPE, document_id)
    if isinstance(converted, ItemProblem):
        return converted
    taken.add(item_id)
    return item_id, converted


def check_update(
    item_id: str, attributes: Mapping[str, Any], schema: Mapping[str, str], exists: bool
) -> dict[str, Any] | ItemProblem:
    """Check one item of an update-items request.

    Order: the item must exist (``item-not-found``); then every attribute must be defined,
    must not be ``id`` (the primary key), must keep mandatory attributes non-empty strings
    and must convert to its type (all ``invalid-attributes``).

    Returns:
        The converted attributes to merge into the item, or the problem.
    """
    if not exists:
        return ItemProblem(ERROR_ITEM_NOT_FOUND, _NOT_FOUND_MESSAGE.format(id=item_id), item_id)
    undefined = sorted(name for name in attributes if name not in schema)
    if undefined:
        return ItemProblem(
            ERROR_INVALID_ATTRIBUTES,
            _NOT_DEFINED_MESSAGE.format(names=", ".join(undefined)),
            item_id,
        )
    if "id" in attributes and attributes["id"] != item_id:
        return ItemProblem(
            ERROR_INVALID_ATTRIBUTES, _ID_IMMUTABLE_MESSAGE.format(names="id"), item_id
        )
    empty = [
        name
        for name in MANDATORY_ATTRIBUTES
        if name in attributes and (not isinstance(attributes[name], str) or not attributes[name])
    ]
    if empty:
        return ItemProblem(
            ERROR_INVALID_ATTRIBUTES,
            _MANDATORY_EMPTY_MESSAGE.format(names=", ".join(empty)),
            item_id,
        )
    return _convert_all(attributes, schema, ERROR_INVALID_ATTRIBUTES, item_id)
