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

from moengage_pipelines.push.mapping.attributes import (
    CATALOG_MANDATORY_ATTRIBUTES,
    STANDARD_USER_ATTRIBUTES,
    UPDATABLE_MOE_USER_ATTRIBUTES,
    AttributeSpec,
    AttributeType,
    CatalogAttributeSpec,
    CatalogAttributeType,
    IdWhitespace,
    NonFinite,
    PlatformSpec,
    normalize_platform,
)
from moengage_pipelines.push.mapping.catalog import CatalogMapping
from moengage_pipelines.push.mapping.errors import MappingError
from moengage_pipelines.push.mapping.events import EventMapping
from moengage_pipelines.push.mapping.loading import AnyMapping, EntityMapping, load_mapping
from moengage_pipelines.push.mapping.users import UserMapping

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
    "EntityMapping",
    "EventMapping",
    "IdWhitespace",
    "MappingError",
    "NonFinite",
    "PlatformSpec",
    "UserMapping",
    "load_mapping",
    "normalize_platform",
]
