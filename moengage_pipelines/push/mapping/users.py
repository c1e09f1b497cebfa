"""``UserMapping``: rows -> MoEngage users (customer elements of a bulk import)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from moengage_pipelines.push.mapping.attributes import (
    STANDARD_USER_ATTRIBUTES,
    UPDATABLE_MOE_USER_ATTRIBUTES,
    AttributeSpec,
    IdWhitespace,
    MappingModel,
    NonFinite,
    PlatformSpec,
    check_attribute_name,
    normalize_attributes,
    unique_columns,
)

__all__ = ["UserMapping"]

class UserMapping(MappingModel):
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
        non_finite: ``null`` treats NaN and infinite floats as missing values; ``reject``
            rejects their rows (``non_finite_number``).
        customer_id_whitespace: ``trim`` takes surrounding whitespace off customer ids;
            ``keep`` sends them as they are.
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
    non_finite: NonFinite = "null"
    customer_id_whitespace: IdWhitespace = "trim"

    _normalize = field_validator("attributes", mode="before")(
        classmethod(lambda cls, value: normalize_attributes(value))
    )

    @field_validator("attributes")
    @classmethod
    def _attribute_names(cls, value: dict[str, AttributeSpec]) -> dict[str, AttributeSpec]:
        for name in value:
            check_attribute_name(name, allow_moe=UPDATABLE_MOE_USER_ATTRIBUTES)
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
        attributes = self.output_attributes().values()
        return unique_columns([self.customer_id, *(spec.column for spec in attributes)])

    @property
    def row_key_column(self) -> str:
        """Column identifying a row in dead letters."""
        return self.customer_id

    @property
    def key_whitespace(self) -> IdWhitespace:
        """Whether the row key (the customer id) is trimmed."""
        return self.customer_id_whitespace
