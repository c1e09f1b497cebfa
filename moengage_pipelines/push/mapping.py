"""Declarative mappings: how warehouse rows become MoEngage users, events or catalog items.

A mapping is a small document (YAML or a dict) with an ``entity`` discriminator::

    entity: users
    customer_id: user_id
    email: email_address          # MoEngage standard attribute <- column
    attributes:                   # custom attribute name <- column
      plan: subscription_plan
      lifetime_value: {column: ltv, type: number}

    entity: events
    customer_id: user_id
    event_name_column: event      # or event_name: Purchase (a constant)
    event_time_column: occurred_at
    platform: web                 # or platform_column: platform
    attributes: [sku, price]      # a list keeps the column names

    entity: catalog
    catalog: products
    price_currency: USD
    id_column: sku
    title_column: name
    link_column: url
    image_link_column: image_url
    attributes:
      price: {column: price, type: double}

Names are checked against MoEngage's rules when the mapping is loaded (reserved names, the
``moe_`` system prefix, duplicates), so a bad mapping fails before any row is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from moengage_pipelines.errors import ConfigError
from moengage_pipelines.limits import (
    CATALOG_MAX_ATTRIBUTES,
    EVENT_PLATFORMS,
    RESERVED_ATTRIBUTE_NAMES,
    USER_TIMEZONE_OFFSET_MAX,
    USER_TIMEZONE_OFFSET_MIN,
)

__all__ = [
    "CATALOG_MANDATORY_ATTRIBUTES",
    "STANDARD_USER_ATTRIBUTES",
    "UPDATABLE_MOE_USER_ATTRIBUTES",
    "AnyMapping",
    "AttributeSpec",
    "AttributeType",
    "CatalogAttributeSpec",
    "CatalogAttributeType",
    "CatalogMapping",
    "EventMapping",
    "MappingError",
    "PlatformSpec",
    "UserMapping",
    "load_mapping",
    "normalize_platform",
]

AttributeType = Literal["auto", "string", "number", "bool", "datetime", "date"]
CatalogAttributeType = Literal["string", "bool", "double", "datetime", "geopoint"]

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


class MappingError(ConfigError):
    """A mapping document is invalid; the message names the field and the rule."""


def normalize_platform(value: str) -> str | None:
    """Return MoEngage's spelling of a platform (``android`` -> ``ANDROID``), or None if unknown.

    MoEngage's platform enum is case-sensitive on the wire (``ANDROID``, ``iOS``, ``web``,
    ``TV``, ``unknown``) while warehouses hold every spelling; the case carries no meaning, so
    it is normalized rather than rejected.
    """
    return _PLATFORM_BY_LOWER.get(value.strip().lower())


def _check_attribute_name(name: str, *, allow_moe: frozenset[str] = frozenset()) -> str:
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


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AttributeSpec(_Model):
    """Where one user or event attribute comes from.

    Attributes:
        column: Source column.
        type: ``auto`` keeps the column's own type; ``string``, ``number``, ``bool``,
            ``datetime`` (sent as ``YYYY-MM-DDTHH:MM:SSZ``) or ``date`` (``YYYY-MM-DD``) convert
            and reject rows whose value does not convert.
    """

    column: str = Field(min_length=1)
    type: AttributeType = "auto"


class CatalogAttributeSpec(_Model):
    """One custom catalog attribute.

    Attributes:
        column: Source column.
        type: MoEngage catalog type; immutable once the catalog has it. ``None`` infers it from
            the column's type (strings -> string, numbers -> double, booleans -> bool,
            timestamps and dates -> datetime).
    """

    column: str = Field(min_length=1)
    type: CatalogAttributeType | None = None


def _normalize_attributes(value: Any) -> Any:
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


class PlatformSpec(_Model):
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


class UserMapping(_Model):
    """Rows -> MoEngage users (customer elements of a bulk import).

    Attributes:
        entity: Always ``"users"``.
        customer_id: Column holding MoEngage's ``customer_id`` (the dashboard "ID").
        attributes: Custom attributes, ``{moengage_name: column | {column, type}}`` or a list of
            columns sent under their own names.
        name, first_name, last_name, email, mobile, gender, birthday: Columns for MoEngage's
            standard attributes.
        update_existing_only: Only update users that already exist; never create one.
        platforms: Platforms to mark the users active on.
        send_nulls: Send ``null`` for null attributes (which may clear a value in MoEngage)
            instead of leaving them out.
    """

    entity: Literal["users"] = "users"
    customer_id: str = Field(min_length=1)
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    gender: str | None = None
    birthday: str | None = None
    update_existing_only: bool = False
    platforms: list[PlatformSpec] = Field(default_factory=list)
    send_nulls: bool = False

    _normalize = field_validator("attributes", mode="before")(
        classmethod(lambda cls, value: _normalize_attributes(value))
    )

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, AttributeSpec]) -> dict[str, AttributeSpec]:
        for name in value:
            _check_attribute_name(name, allow_moe=UPDATABLE_MOE_USER_ATTRIBUTES)
            if name in STANDARD_USER_ATTRIBUTES.values():
                raise ValueError(
                    f"attribute {name!r} is a standard attribute; map it with the "
                    f"top-level field instead"
                )
            if name == "platforms":
                raise ValueError("'platforms' is set with the top-level platforms field")
        return value

    def output_attributes(self) -> dict[str, AttributeSpec]:
        """Every attribute sent, in order: standard ones first, then custom ones."""
        out: dict[str, AttributeSpec] = {}
        for field, api_name in STANDARD_USER_ATTRIBUTES.items():
            column = getattr(self, field)
            if column:
                kind = "datetime" if field == "birthday" else "auto"
                out[api_name] = AttributeSpec(column=column, type=kind)
        out.update(self.attributes)
        return out

    def columns(self) -> list[str]:
        """Every source column the mapping reads."""
        return _unique([self.customer_id, *(s.column for s in self.output_attributes().values())])

    @property
    def row_key_column(self) -> str:
        """Column identifying a row in dead letters."""
        return self.customer_id


class EventMapping(_Model):
    """Rows -> MoEngage events (event elements of a bulk import), one action per row.

    Each of event name, platform, app version and timezone offset is either a constant or a
    column (``*_column``); give at most one of the two.

    Attributes:
        entity: Always ``"events"``.
        customer_id: Column holding the user's ``customer_id``.
        event_name: Constant event name (``action``).
        event_name_column: Column holding the event name.
        event_time_column: Column holding when it happened (``current_time``): a timestamp,
            date, ISO 8601 string or epoch number (see ``event_time_unit``). Without it MoEngage
            uses the time it receives the event.
        event_time_unit: Unit of numeric event times, ``s`` or ``ms``.
        platform: Constant platform (ANDROID, iOS, web, TV, unknown; any case).
        platform_column: Column holding the platform; values are normalized the same way.
        app_version: Constant app version.
        app_version_column: Column holding the app version.
        user_timezone_offset: Constant offset from UTC in seconds (-54000..54000).
        user_timezone_offset_column: Column holding the offset in seconds.
        attributes: Event attributes, as for users.
        send_nulls: Send ``null`` for null attributes instead of leaving them out.
    """

    entity: Literal["events"] = "events"
    customer_id: str = Field(min_length=1)
    event_name: str | None = None
    event_name_column: str | None = None
    event_time_column: str | None = None
    event_time_unit: Literal["s", "ms"] = "s"
    platform: str | None = None
    platform_column: str | None = None
    app_version: str | None = None
    app_version_column: str | None = None
    user_timezone_offset: int | None = Field(
        default=None, ge=USER_TIMEZONE_OFFSET_MIN, le=USER_TIMEZONE_OFFSET_MAX
    )
    user_timezone_offset_column: str | None = None
    attributes: dict[str, AttributeSpec] = Field(default_factory=dict)
    send_nulls: bool = False

    _normalize = field_validator("attributes", mode="before")(
        classmethod(lambda cls, value: _normalize_attributes(value))
    )

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, AttributeSpec]) -> dict[str, AttributeSpec]:
        for name in value:
            _check_attribute_name(name)
        return value

    @field_validator("event_name")
    @classmethod
    def _event_name_allowed(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not value.strip():
            raise ValueError("event_name must not be empty")
        if value.lower().startswith("moe_"):
            raise ValueError(f"event name {value!r} starts with the system prefix 'moe_'")
        return value

    @field_validator("platform")
    @classmethod
    def _platform_allowed(cls, value: str | None) -> str | None:
        if value is None:
            return value
        normalized = normalize_platform(value)
        if normalized is None:
            raise ValueError(f"unknown platform {value!r}; expected one of {EVENT_PLATFORMS}")
        return normalized

    @model_validator(mode="after")
    def _constant_or_column(self) -> EventMapping:
        if (self.event_name is None) == (self.event_name_column is None):
            raise ValueError("give exactly one of event_name (a constant) or event_name_column")
        for field in ("platform", "app_version", "user_timezone_offset"):
            if getattr(self, field) is not None and getattr(self, f"{field}_column") is not None:
                raise ValueError(f"give {field} or {field}_column, not both")
        return self

    def columns(self) -> list[str]:
        """Every source column the mapping reads."""
        optional = [
            self.event_name_column,
            self.event_time_column,
            self.platform_column,
            self.app_version_column,
            self.user_timezone_offset_column,
        ]
        return _unique(
            [
                self.customer_id,
                *(column for column in optional if column),
                *(spec.column for spec in self.attributes.values()),
            ]
        )

    @property
    def row_key_column(self) -> str:
        """Column identifying a row in dead letters."""
        return self.customer_id


class CatalogMapping(_Model):
    """Rows -> items of one MoEngage catalog.

    Attributes:
        entity: Always ``"catalog"``.
        catalog: Catalog name (unique in the workspace).
        catalog_id: The catalog's id, when it exists already. MoEngage cannot look a catalog
            up by name, so without it (or a catalog state that remembers it) the catalog is
            created.
        price_currency: ISO 4217 code the catalog is created with.
        id_column, title_column, link_column, image_link_column: Columns of the four mandatory
            string attributes; ``id`` is the item's primary key.
        attributes: Custom attributes ``{name: column | {column, type}}`` (at most 46).
        create_missing: Create the catalog and add missing attributes before pushing.
        mirror: Delete catalog items that are no longer in the source (opt-in). Needs the ids
            pushed previously, kept by the caller (see ``run_push``).
    """

    entity: Literal["catalog"] = "catalog"
    catalog: str = Field(min_length=1)
    catalog_id: str | None = None
    price_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    id_column: str = Field(min_length=1)
    title_column: str = Field(min_length=1)
    link_column: str = Field(min_length=1)
    image_link_column: str = Field(min_length=1)
    attributes: dict[str, CatalogAttributeSpec] = Field(default_factory=dict)
    create_missing: bool = True
    mirror: bool = False

    _normalize = field_validator("attributes", mode="before")(
        classmethod(lambda cls, value: _normalize_attributes(value))
    )

    @field_validator("attributes")
    @classmethod
    def _attribute_names(
        cls, value: dict[str, CatalogAttributeSpec]
    ) -> dict[str, CatalogAttributeSpec]:
        for name in value:
            if not name or not name.strip():
                raise ValueError("attribute names must not be empty")
            if name in CATALOG_MANDATORY_ATTRIBUTES:
                raise ValueError(f"{name!r} is mandatory; map it with {name}_column instead")
        limit = CATALOG_MAX_ATTRIBUTES - len(CATALOG_MANDATORY_ATTRIBUTES)
        if len(value) > limit:
            raise ValueError(
                f"{len(value)} custom attributes; a catalog holds at most {limit} "
                f"besides the {len(CATALOG_MANDATORY_ATTRIBUTES)} mandatory ones"
            )
        return value

    def mandatory_columns(self) -> dict[str, str]:
        """The four mandatory attributes and their columns."""
        return {
            "id": self.id_column,
            "title": self.title_column,
            "link": self.link_column,
            "image_link": self.image_link_column,
        }

    def columns(self) -> list[str]:
        """Every source column the mapping reads."""
        return _unique(
            [
                *self.mandatory_columns().values(),
                *(spec.column for spec in self.attributes.values()),
            ]
        )

    @property
    def row_key_column(self) -> str:
        """Column identifying a row in dead letters."""
        return self.id_column


AnyMapping = Annotated[UserMapping | EventMapping | CatalogMapping, Field(discriminator="entity")]
_ADAPTER: TypeAdapter[UserMapping | EventMapping | CatalogMapping] = TypeAdapter(AnyMapping)


def _unique(columns: list[str]) -> list[str]:
    return list(dict.fromkeys(columns))


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        # Drop the union tag ("users", "events") pydantic puts first in the location.
        location = [str(part) for part in item["loc"]]
        if location and location[0] in {"users", "events", "catalog"}:
            location = location[1:]
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{'.'.join(location)}: {message}" if location else message)
    return "; ".join(parts)


def load_mapping(
    source: str | Path | Mapping[str, Any] | UserMapping | EventMapping | CatalogMapping,
) -> UserMapping | EventMapping | CatalogMapping:
    """Load a mapping from a YAML file path, a YAML string, a dict, or pass a model through.

    Args:
        source: A path to a ``.yml``/``.yaml`` file, YAML text, a dict with an ``entity`` key
            (``users``, ``events`` or ``catalog``), or an already built mapping.

    Returns:
        The validated mapping model.

    Raises:
        MappingError: If the document is not valid; the message names each bad field.
    """
    if isinstance(source, UserMapping | EventMapping | CatalogMapping):
        return source
    document: Any
    origin = "mapping"
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yml", ".yaml"))
    ):
        path = Path(source)
        origin = str(path)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MappingError(f"cannot read mapping {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise MappingError(f"{path} is not valid YAML: {exc}") from None
    elif isinstance(source, str):
        try:
            document = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise MappingError(f"mapping is not valid YAML: {exc}") from None
    else:
        document = dict(source)
    if not isinstance(document, Mapping):
        raise MappingError(f"{origin}: expected a mapping document (key: value pairs)")
    if "entity" not in document:
        raise MappingError(f"{origin}: entity is required (users, events or catalog)")
    try:
        return _ADAPTER.validate_python(dict(document))
    except ValidationError as exc:
        raise MappingError(f"{origin}: {_describe(exc)}") from None
