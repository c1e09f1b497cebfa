"""The pieces every mapping is made of: attribute specs, names MoEngage reserves, platforms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from moengage_pipelines.limits import EVENT_PLATFORMS, RESERVED_ATTRIBUTE_NAMES

__all__ = [
    "CATALOG_MANDATORY_ATTRIBUTES",
    "STANDARD_USER_ATTRIBUTES",
    "UPDATABLE_MOE_USER_ATTRIBUTES",
    "AttributeSpec",
    "AttributeType",
    "CatalogAttributeSpec",
    "CatalogAttributeType",
    "IdWhitespace",
    "MappingModel",
    "NonFinite",
    "PlatformSpec",
    "check_attribute_name",
    "normalize_attributes",
    "normalize_platform",
    "unique_columns",
]


AttributeType = Literal["auto", "string", "number", "bool", "datetime", "date"]
CatalogAttributeType = Literal["string", "bool", "double", "datetime", "geopoint"]

# What a NaN or infinite float becomes: a missing value (pandas' reading of NaN) or a
# rejected row (``non_finite_number``).
NonFinite = Literal["null", "reject"]

# Whether surrounding whitespace is taken off customer and item ids before they are checked
# and sent (MoEngage tells ``" a"`` and ``"a"`` apart).
IdWhitespace = Literal["trim", "keep"]

# Mapping field -> API key MoEngage expects. The official Track User examples (and every
# real integration seen) send the plain names; birthday has no plain name in the docs, only
# the internal ``u_bd`` key (ISO 8601), so that one is sent as ``u_bd``.
STANDARD_USER_ATTRIBUTES: dict[str, str] = {
    "name": "name",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "mobile": "mobile",
    "gender": "gender",
    "birthday": "u_bd",
}

# ``moe_`` is MoEngage's system prefix; only these documented standard attributes may be set.
UPDATABLE_MOE_USER_ATTRIBUTES = frozenset(
    {
        "moe_wa_subscription",
        "moe_em_unsub_categories",
        "moe_sub_w",
        "moe_spam",
        "moe_unsubscribe",
        "moe_hard_bounce",
        "moe_sms_subscription",
        "moe_email_optin_status",
    }
)

CATALOG_MANDATORY_ATTRIBUTES = ("id", "title", "link", "image_link")

_RESERVED_LOWER = frozenset(name.lower() for name in RESERVED_ATTRIBUTE_NAMES)
_PLATFORM_BY_LOWER = {platform.lower(): platform for platform in EVENT_PLATFORMS}

def normalize_platform(value: str) -> str | None:
    """Return MoEngage's spelling of a platform (``android`` -> ``ANDROID``), or None if unknown.

    MoEngage's platform enum is case-sensitive on the wire (``ANDROID``, ``iOS``, ``web``,
    ``TV``, ``unknown``) while warehouses hold every spelling; the case carries no meaning, so
    it is normalized rather than rejected.
    """
    return _PLATFORM_BY_LOWER.get(value.strip().lower())


def check_attribute_name(name: str, *, allow_moe: frozenset[str] = frozenset()) -> str:
    """Return ``name`` if MoEngage accepts it as an attribute name.

    Raises:
        ValueError: If it is empty, reserved, or has the ``moe_`` system prefix without being
            in ``allow_moe``.
    """
    if not name or not name.strip():
        raise ValueError("attribute names must not be empty")
    if name.lower() in _RESERVED_LOWER:
        raise ValueError(f"attribute name {name!r} is reserved by MoEngage")
    if name.lower().startswith("moe_") and name not in allow_moe:
        raise ValueError(
            f"attribute name {name!r} starts with the system prefix 'moe_' "
            "(MoEngage may blacklist such names)"
        )
    return name


class MappingModel(BaseModel):
    """Base of mapping models: unknown fields are errors, models are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributeSpec(MappingModel):
    """Where one user or event attribute comes from.

    Attributes:
        column: Source column.
        type: ``auto`` keeps the column's own type; ``string``, ``number``, ``bool``,
            ``datetime`` (sent as ``YYYY-MM-DDTHH:MM:SSZ``) or ``date`` (``YYYY-MM-DD``) convert
            and reject rows whose value does not convert.
    """

    column: str = Field(min_length=1)
    type: AttributeType = "auto"


class CatalogAttributeSpec(MappingModel):
    """One custom catalog attribute.

    Attributes:
        column: Source column.
        type: MoEngage catalog type; immutable once the catalog has it. ``None`` infers it from
            the column's type (strings -> string, numbers -> double, booleans -> bool,
            timestamps and dates -> datetime).
    """

    column: str = Field(min_length=1)
    type: CatalogAttributeType | None = None


def normalize_attributes(value: Any) -> Any:
    """Accept a list of columns (names kept) or a dict of name -> column | spec."""
    if value is None:
        return {}
    if isinstance(value, list | tuple):
        normalized: dict[str, Any] = {}
        for column in value:
            if not isinstance(column, str):
                raise ValueError("a list of attributes must hold column names")
            if column in normalized:
                raise ValueError(f"column {column!r} is listed twice")
            normalized[column] = {"column": column}
        return normalized
    if isinstance(value, Mapping):
        return {
            name: {"column": spec} if isinstance(spec, str) else spec
            for name, spec in value.items()
        }
    return value


class PlatformSpec(MappingModel):
    """A platform the user is active on (sent as ``{"platform": .., "active": "true"}``)."""

    platform: str
    active: bool = True

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        normalized = normalize_platform(value)
        if normalized is None or normalized == "unknown":
            raise ValueError(f"unknown platform {value!r}; expected ANDROID, iOS, web or TV")
        return normalized


def unique_columns(columns: list[str]) -> list[str]:
    """The columns in order, each once."""
    return list(dict.fromkeys(columns))

