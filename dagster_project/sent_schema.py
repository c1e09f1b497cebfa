"""The column schema of what a push sends: MoEngage's field names and types, from the mapping.

Shown as ``dagster/column_schema`` on the push asset: the spec carries the types the mapping
declares (``auto`` where it keeps the source column's type), each materialization the types
resolved against the source's actual schema.
"""

from __future__ import annotations

import dagster as dg
import pyarrow as pa

from moengage_pipelines.push.mapping import (
    CatalogMapping,
    EntityMapping,
    EventMapping,
    UserMapping,
)

__all__ = ["sent_column_schema"]


def _arrow_kind(data_type: pa.DataType) -> str:
    """The JSON kind MoEngage receives for a column sent as it is (``type: auto``)."""
    if pa.types.is_boolean(data_type):
        return "bool"
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return "number"
    if pa.types.is_decimal(data_type):
        return "number"
    if pa.types.is_timestamp(data_type) or pa.types.is_date(data_type):
        return "datetime"
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return "array"
    return "string"


class _Columns:
    """Collects the sent fields, resolving ``auto`` types when the source schema is known."""

    def __init__(self, source: pa.Schema | None, number: str = "number") -> None:
        self.source = source
        self.number = number  # what MoEngage calls a number here ("double" in catalogs)
        self.columns: list[dg.TableColumn] = []

    def add(self, name: str, kind: str | None, column: str | None, note: str = "") -> None:
        if kind in (None, "auto"):
            if column and self.source is not None and column in self.source.names:
                kind = _arrow_kind(self.source.field(column).type)
                kind = self.number if kind == "number" else kind
            else:
                kind = "auto"
        origin = f"from column {column}" if column else note
        self.columns.append(dg.TableColumn(name, kind, description=origin or None))


def sent_column_schema(mapping: EntityMapping, source: pa.Schema | None = None) -> dg.TableSchema:
    """The fields a push sends to MoEngage, named as MoEngage names them.

    Args:
        mapping: The push's mapping.
        source: The source's Arrow schema; resolves ``auto`` types. None keeps them ``auto``.

    Returns:
        One column per field: ``customer_id``, ``attributes.<name>`` for users; ``action``,
        ``current_time``, ``platform``, ... and ``attributes.<name>`` for events; ``id``,
        ``title``, ``link``, ``image_link`` and custom attributes for catalog items.
    """
    columns = _Columns(source, "double" if isinstance(mapping, CatalogMapping) else "number")
    if isinstance(mapping, UserMapping):
        columns.add("customer_id", "string", mapping.customer_id)
        for name, spec in mapping.output_attributes().items():
            columns.add(f"attributes.{name}", spec.type, spec.column)
        if mapping.platforms:
            platforms = ", ".join(spec.platform for spec in mapping.platforms)
            columns.add("attributes.platforms", "array", None, f"constant: {platforms}")
    elif isinstance(mapping, EventMapping):
        columns.add("customer_id", "string", mapping.customer_id)
        _constant_or_column(columns, "action", "string", mapping.event_name,
                            mapping.event_name_column)
        if mapping.event_time_column:
            columns.add("current_time", "datetime", mapping.event_time_column)
        _constant_or_column(columns, "platform", "string", mapping.platform,
                            mapping.platform_column)
        _constant_or_column(columns, "app_version", "string", mapping.app_version,
                            mapping.app_version_column)
        _constant_or_column(columns, "user_timezone_offset", "number",
                            mapping.user_timezone_offset, mapping.user_timezone_offset_column)
        for name, spec in mapping.attributes.items():
            columns.add(f"attributes.{name}", spec.type, spec.column)
    elif isinstance(mapping, CatalogMapping):
        for name in ("id", "title", "link", "image_link"):
            columns.add(name, "string", getattr(mapping, f"{name}_column"))
        for name, spec in mapping.attributes.items():
            columns.add(name, spec.type, spec.column)
    return dg.TableSchema(columns=columns.columns)


def _constant_or_column(
    columns: _Columns, name: str, kind: str, constant: object, column: str | None
) -> None:
    if column:
        columns.add(name, kind, column)
    elif constant is not None:
        columns.add(name, kind, None, f"constant: {constant}")
