"""``CatalogMapping``: rows -> items of one MoEngage catalog."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from moengage_pipelines.limits import CATALOG_MAX_ATTRIBUTES
from moengage_pipelines.push.mapping.attributes import (
    CATALOG_MANDATORY_ATTRIBUTES,
    CatalogAttributeSpec,
    IdWhitespace,
    MappingModel,
    NonFinite,
    normalize_attributes,
    unique_columns,
)

__all__ = ["CatalogMapping"]

class CatalogMapping(MappingModel):
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
        non_finite: ``null`` treats NaN and infinite floats as missing values; ``reject``
            rejects their rows (``non_finite_number``). A mandatory attribute that is NaN
            rejects its row either way.
        id_whitespace: ``trim`` takes surrounding whitespace off item ids; ``keep`` sends
            them as they are.
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
    non_finite: NonFinite = "null"
    id_whitespace: IdWhitespace = "trim"

    _normalize = field_validator("attributes", mode="before")(
        classmethod(lambda cls, value: normalize_attributes(value))
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
        return unique_columns(
            [
                *self.mandatory_columns().values(),
                *(spec.column for spec in self.attributes.values()),
            ]
        )

    @property
    def row_key_column(self) -> str:
        """Column identifying a row in dead letters."""
        return self.id_column

    @property
    def key_whitespace(self) -> IdWhitespace:
        """Whether the row key (the item id) is trimmed."""
        return self.id_whitespace
