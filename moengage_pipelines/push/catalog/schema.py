"""The catalog a push writes to: found or created, its missing attributes added, types checked.

MoEngage offers no way to look a catalog up by name or to read its attributes, and an
attribute's type is immutable once defined: adding an attribute that exists is silently
ignored, and items whose values do not fit the old type are then refused one by one. So the
catalog's id and the types pushes defined are remembered in a ``CatalogState``, and a mapping
that gives a remembered attribute another type stops the push before anything is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import pyarrow as pa

from moengage_pipelines.errors import MoEngageHTTPError
from moengage_pipelines.push.catalog.client import CatalogClient
from moengage_pipelines.push.catalog.state import CatalogState
from moengage_pipelines.push.mapping import (
    CATALOG_MANDATORY_ATTRIBUTES,
    CatalogMapping,
    MappingError,
)
from moengage_pipelines.push.prepare.column_types import infer_catalog_type

__all__ = [
    "CatalogAttributeTypeError",
    "catalog_attributes",
    "check_attribute_types",
    "resolve_catalog",
]

logger = logging.getLogger(__name__)


class CatalogAttributeTypeError(MappingError):
    """The mapping gives an existing catalog attribute another type; MoEngage cannot change it."""


def catalog_attributes(mapping: CatalogMapping, schema: pa.Schema) -> list[dict[str, str]]:
    """The ``{"name", "type"}`` list a catalog is created with (mandatory ones first)."""
    attributes = [{"name": name, "type": "string"} for name in CATALOG_MANDATORY_ATTRIBUTES]
    for name, spec in mapping.attributes.items():
        kind = spec.type or infer_catalog_type(schema.field(spec.column).type)
        attributes.append({"name": name, "type": kind})
    return attributes


def check_attribute_types(
    mapping: CatalogMapping, attributes: list[dict[str, str]], known: Mapping[str, str]
) -> None:
    """Stop a push whose mapping changes the type of an attribute the catalog already has.

    Args:
        mapping: The catalog mapping (for the catalog's name and the columns).
        attributes: What the mapping defines (:func:`catalog_attributes`).
        known: Attribute name → type the catalog was given earlier.

    Raises:
        CatalogAttributeTypeError: Naming every changed attribute, its column, both types and
            what to do.
    """
    changed = [
        (attribute["name"], known[attribute["name"]], attribute["type"])
        for attribute in attributes
        if attribute["name"] in known and known[attribute["name"]] != attribute["type"]
    ]
    if not changed:
        return
    details = "; ".join(
        f"attribute {name!r} (column {_column(mapping, name)!r}) is {old} in the catalog but "
        f"the mapping now gives {new}"
        for name, old, new in changed
    )
    name, old, _ = changed[0]
    raise CatalogAttributeTypeError(
        f"catalog {mapping.catalog!r}: {details}. MoEngage cannot change the type of an "
        f"attribute once defined: keep the type (e.g. `type: {old}` for {name!r} in the "
        "mapping, or cast the column), or map the values to a new attribute name. "
        "Nothing was sent."
    )


def _column(mapping: CatalogMapping, attribute: str) -> str:
    spec = mapping.attributes.get(attribute)
    return spec.column if spec is not None else attribute


def resolve_catalog(
    mapping: CatalogMapping,
    schema: pa.Schema,
    client: CatalogClient | None,
    state: CatalogState | None,
    *,
    dry_run: bool = False,
) -> str | None:
    """Find or create the mapping's catalog and make sure it has the mapping's attributes.

    1. The id comes from the mapping's ``catalog_id``, else from the state; without one the
       catalog is created with every attribute (``create_missing``).
    2. The mapping's attribute types are checked against those the state remembers.
    3. Attributes the state does not know are added (``create_missing``); MoEngage ignores
       those that exist already.

    A dry run only checks types against the state and creates nothing.

    Args:
        mapping: The catalog mapping.
        schema: Schema of the source batches (to infer types the mapping leaves out).
        client: A ``MoEngageClient`` (unused in a dry run).
        state: Where catalog ids and attribute types are remembered, if anywhere.
        dry_run: Check only.

    Returns:
        The catalog id (None in a dry run of a catalog not created yet).

    Raises:
        CatalogAttributeTypeError: If the mapping changes an attribute's type.
        MappingError: If the catalog exists but its id is unknown, or does not exist and
            ``create_missing`` is off.
    """
    catalog_id = mapping.catalog_id or (state.catalog_id(mapping.catalog) if state else None)
    attributes = catalog_attributes(mapping, schema)
    known = state.attribute_types(catalog_id) if state is not None and catalog_id else {}
    check_attribute_types(mapping, attributes, known)
    if dry_run:
        return catalog_id
    if client is None:
        raise ValueError("a client is needed to find or create the catalog")
    if catalog_id is None:
        catalog_id = _create(mapping, client, attributes)
        added = attributes
    elif mapping.create_missing:
        added = _add_missing(client, catalog_id, attributes, known)
    else:
        added = []
    if not catalog_id:
        raise MoEngageHTTPError(0, "catalog creation returned no catalog_id")
    if state is not None:
        state.remember_catalog(mapping.catalog, catalog_id)
        state.remember_attributes(
            catalog_id, {attribute["name"]: attribute["type"] for attribute in added}
        )
    return catalog_id


def _create(
    mapping: CatalogMapping, client: CatalogClient, attributes: list[dict[str, str]]
) -> str:
    if not mapping.create_missing:
        raise MappingError(
            f"catalog {mapping.catalog!r} has no known id and create_missing is off; "
            "set catalog_id in the mapping"
        )
    try:
        return client.create_catalog(
            mapping.catalog, price_currency=mapping.price_currency, attributes=attributes
        )
    except MoEngageHTTPError as exc:
        if "duplicate" in (exc.message + exc.body).lower():
            raise MappingError(
                f"catalog {mapping.catalog!r} already exists but its id is unknown "
                "(MoEngage cannot look a catalog up by name); set catalog_id in the mapping"
            ) from None
        raise


def _add_missing(
    client: CatalogClient,
    catalog_id: str,
    attributes: list[dict[str, str]],
    known: Mapping[str, str],
) -> list[dict[str, str]]:
    """Add the custom attributes the state does not know; return those MoEngage added."""
    custom = attributes[len(CATALOG_MANDATORY_ATTRIBUTES) :]
    missing = [attribute for attribute in custom if attribute["name"] not in known]
    if not missing:
        return []  # every attribute is known: no request spent
    answer = client.add_catalog_attributes(catalog_id, missing)
    existing = answer.get("duplicate-item-attributes") if isinstance(answer, dict) else None
    existing = {str(name) for name in existing or ()}
    if existing:
        # Defined outside these pushes: their types are unknown here. Items whose values do
        # not fit are refused by MoEngage and become dead letters.
        logger.info(
            "catalog %s already had attributes %s; their types were not checked",
            catalog_id,
            ", ".join(sorted(existing)),
        )
    return [attribute for attribute in missing if attribute["name"] not in existing]
