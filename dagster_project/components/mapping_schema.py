"""The component's ``mapping`` as YAML sees it: a union discriminated by ``entity``.

These models exist for the component's JSON schema (editor completion, ``dg check``): they
accept exactly what the library's mapping models accept, shorthands included (an attribute
given as a bare column name, attributes given as a list of columns). The library's models
(``moengage_pipelines.push.mapping``) stay the source of truth: ``resolve_mapping`` hands the
document to them, and their errors (reserved names, constant-or-column rules) come back with
the YAML file and line of the offending field.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import dagster as dg
from pydantic import Field, TypeAdapter, ValidationError

from moengage_pipelines.push.mapping import AnyMapping, EntityMapping

__all__ = [
    "AttributeSchema",
    "CatalogAttributeSchema",
    "CatalogMappingSchema",
    "EventsMappingSchema",
    "MappingSchema",
    "PlatformSchema",
    "UsersMappingSchema",
    "resolve_mapping",
]

AttributeType = Literal["auto", "string", "number", "bool", "datetime", "date"]
CatalogAttributeType = Literal["string", "bool", "double", "datetime", "geopoint"]


class AttributeSchema(dg.Model):
    """One user or event attribute with an explicit type."""

    column: str = Field(description="Source column.")
    type: AttributeType = Field(
        default="auto",
        description="auto keeps the column's type; the others convert (or reject the row).",
    )


class CatalogAttributeSchema(dg.Model):
    """One custom catalog attribute."""

    column: str = Field(description="Source column.")
    type: CatalogAttributeType | None = Field(
        default=None,
        description="MoEngage catalog type, immutable once set; unset infers it from the column.",
    )


class PlatformSchema(dg.Model):
    """A platform the user is active on."""

    platform: str = Field(description="ANDROID, iOS, web or TV (any case).")
    active: bool = True


_ATTRIBUTES = (
    "MoEngage name -> column, or -> {column, type}; a list of columns keeps their names."
)
Attributes = dict[str, str | AttributeSchema] | list[str]
_WHITESPACE = "trim takes surrounding whitespace off ids; keep sends them as they are."
_NON_FINITE = "null treats NaN and infinite floats as missing; reject rejects their rows."


class UsersMappingSchema(dg.Model):
    """Rows -> MoEngage users (customer elements of a bulk import)."""

    entity: Literal["users"] = Field(description="users, events or catalog.")
    customer_id: str = Field(description="Column holding MoEngage's customer_id.")
    attributes: Attributes | None = Field(default=None, description=_ATTRIBUTES)
    name: str | None = Field(default=None, description="Column of the standard name.")
    first_name: str | None = Field(default=None, description="Column of the first name.")
    last_name: str | None = Field(default=None, description="Column of the last name.")
    email: str | None = Field(default=None, description="Column of the email address.")
    mobile: str | None = Field(default=None, description="Column of the mobile number.")
    gender: str | None = Field(default=None, description="Column of the gender.")
    birthday: str | None = Field(default=None, description="Column of the birthday (u_bd).")
    update_existing_only: bool = Field(
        default=False, description="Only update users that exist; never create one."
    )
    platforms: list[PlatformSchema] | None = Field(
        default=None, description="Platforms to mark the users active on."
    )
    send_nulls: bool = Field(default=False, description="Send null for null attributes.")
    non_finite: Literal["null", "reject"] = Field(default="null", description=_NON_FINITE)
    customer_id_whitespace: Literal["trim", "keep"] = Field(
        default="trim", description=_WHITESPACE
    )


class EventsMappingSchema(dg.Model):
    """Rows -> MoEngage events; each of name, platform, app version, offset: constant or column."""

    entity: Literal["events"] = Field(description="users, events or catalog.")
    customer_id: str = Field(description="Column holding the user's customer_id.")
    event_name: str | None = Field(default=None, description="Constant event name.")
    event_name_column: str | None = Field(default=None, description="Column of the event name.")
    event_time_column: str | None = Field(
        default=None, description="Column of when it happened (timestamp, date, ISO or epoch)."
    )
    event_time_unit: Literal["s", "ms"] = Field(
        default="s", description="Unit of numeric event times."
    )
    platform: str | None = Field(default=None, description="Constant platform.")
    platform_column: str | None = Field(default=None, description="Column of the platform.")
    app_version: str | None = Field(default=None, description="Constant app version.")
    app_version_column: str | None = Field(default=None, description="Column of the version.")
    user_timezone_offset: int | None = Field(
        default=None, description="Constant offset from UTC in seconds (-54000..54000)."
    )
    user_timezone_offset_column: str | None = Field(
        default=None, description="Column of the offset from UTC in seconds."
    )
    attributes: Attributes | None = Field(default=None, description=_ATTRIBUTES)
    send_nulls: bool = Field(default=False, description="Send null for null attributes.")
    non_finite: Literal["null", "reject"] = Field(default="null", description=_NON_FINITE)
    customer_id_whitespace: Literal["trim", "keep"] = Field(
        default="trim", description=_WHITESPACE
    )


class CatalogMappingSchema(dg.Model):
    """Rows -> items of one MoEngage catalog."""

    entity: Literal["catalog"] = Field(description="users, events or catalog.")
    catalog: str = Field(description="Catalog name, unique in the workspace.")
    catalog_id: str | None = Field(
        default=None, description="The catalog's id when it exists (MoEngage cannot look it up)."
    )
    price_currency: str = Field(default="USD", description="ISO 4217 code, e.g. USD.")
    id_column: str = Field(description="Column of the item id (the primary key).")
    title_column: str = Field(description="Column of the item title.")
    link_column: str = Field(description="Column of the item link.")
    image_link_column: str = Field(description="Column of the image link.")
    attributes: dict[str, str | CatalogAttributeSchema] | list[str] | None = Field(
        default=None, description="Custom attributes: name -> column or {column, type}."
    )
    create_missing: bool = Field(
        default=True, description="Create the catalog and missing attributes before pushing."
    )
    mirror: bool = Field(
        default=False, description="Delete items no longer in the source (opt-in)."
    )
    non_finite: Literal["null", "reject"] = Field(default="null", description=_NON_FINITE)
    id_whitespace: Literal["trim", "keep"] = Field(default="trim", description=_WHITESPACE)


MappingSchema = Annotated[
    UsersMappingSchema | EventsMappingSchema | CatalogMappingSchema,
    Field(discriminator="entity"),
]
"""What ``mapping:`` accepts in YAML, one schema per ``entity``."""

_LIBRARY: TypeAdapter[EntityMapping] = TypeAdapter(AnyMapping)


def resolve_mapping(context: dg.ResolutionContext, value: Any) -> EntityMapping:
    """Turn the YAML ``mapping`` into the library's mapping model.

    Args:
        context: Dagster's resolution context, positioned at ``mapping``.
        value: The validated ``MappingSchema`` model (or a template string).

    Returns:
        The library's ``UserMapping``, ``EventMapping`` or ``CatalogMapping``.

    Raises:
        ResolutionException: With the YAML file and line of the field the library refused.
    """
    # A whole-field template ("{{ ... }}") arrives as text and resolves to the document.
    raw = value.model_dump(exclude_unset=True) if isinstance(value, dg.Model) else value
    document = context.resolve_value(raw)
    try:
        return _LIBRARY.validate_python(document)
    except ValidationError as error:
        first = error.errors()[0]
        # pydantic puts the union tag first ("events"); the YAML path starts after it.
        path = [part for part in first["loc"][1:] if isinstance(part, str | int)]
        located = context
        for part in path:
            located = located.at_path(part)
        message = first["msg"].removeprefix("Value error, ")
        field = ".".join(str(part) for part in ["mapping", *path])
        raise located.build_resolve_fn_exc(
            [f"MappingError: {field}: {message}\n"], field_name="mapping", model=value
        ) from None
