"""The SQL that writes one compact JSON element per row, for users, events and catalog items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
import pyarrow as pa

from moengage_pipelines.push.mapping import (
    AttributeSpec,
    CatalogMapping,
    EventMapping,
    UserMapping,
)
from moengage_pipelines.push.prepare.column_types import (
    DATETIME_FORMAT,
    infer_catalog_type,
    type_family,
)
from moengage_pipelines.push.prepare.conversion import convert
from moengage_pipelines.push.prepare.rules import event_time_sql, platform_sql
from moengage_pipelines.push.prepare.sql_text import Check, Converted, Derived, json_key
from moengage_pipelines.warehouse.identifiers import quote_identifier, quote_literal

__all__ = ["catalog_element", "event_element", "user_element"]


class _Concat:
    """The arguments of one ``concat(...)``, with adjacent literal texts merged.

    ``concat`` skips NULL arguments, so an expression that may be NULL must carry its own
    key with ``||`` (see :meth:`optional`); one known to be set can be a plain argument.
    """

    def __init__(self) -> None:
        self._parts: list[tuple[bool, str]] = []  # (is literal text, text or SQL)

    def text(self, text: str) -> None:
        """Append literal text."""
        if self._parts and self._parts[-1][0]:
            self._parts[-1] = (True, self._parts[-1][1] + text)
        else:
            self._parts.append((True, text))

    def sql(self, expression: str) -> None:
        """Append an expression (a NULL adds nothing)."""
        self._parts.append((False, expression))

    def optional(self, prefix: str, value: str, *, present: bool) -> None:
        """Append ``prefix`` and ``value``, both left out when ``value`` is NULL.

        ``present`` says ``value`` is never NULL on the rows that are sent: the pair is then
        written without the null handling (the same bytes, less work per row).
        """
        if present:
            self.text(prefix)
            self.sql(value)
        else:
            self.sql(f"({quote_literal(prefix)} || {value})")

    def extend(self, other: _Concat) -> None:
        """Append every argument of ``other``."""
        for is_text, part in other._parts:
            if is_text:
                self.text(part)
            else:
                self.sql(part)

    def build(self) -> str:
        """The ``concat(...)`` expression."""
        parts = [quote_literal(part) if is_text else part for is_text, part in self._parts]
        return f"concat({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class _Member:
    """One ``"key":value`` pair of a JSON object.

    Attributes:
        key: The key.
        converted: Its value's JSON SQL (NULL when null) and checks.
        present: The value is never NULL on the rows that are sent.
    """

    key: str
    converted: Converted
    present: bool


def _object(members: Sequence[_Member], *, send_nulls: bool) -> _Concat:
    """A JSON object from its members, nulls left out unless asked.

    ``concat_ws`` skips NULL members, so a pair whose value is null (``'"k":' || NULL``)
    disappears together with its separator. Consecutive members known to be set are written
    as one plain ``concat`` argument instead; when all are, the object needs no ``concat_ws``.
    """
    out = _Concat()
    if not members:
        out.text("{}")
        return out
    if send_nulls:
        # Every pair is written, a null as ``null``: all of them are set.
        members = [
            _Member(m.key, Converted(f"coalesce({m.converted.json}, 'null')"), True)
            for m in members
        ]
    if all(member.present for member in members):
        for index, member in enumerate(members):
            out.text(("{" if index == 0 else ",") + json_key(member.key) + ":")
            out.sql(member.converted.json)
        out.text("}")
        return out
    groups: list[str] = []
    run: _Concat | None = None
    for member in members:
        prefix = json_key(member.key) + ":"
        if not member.present:
            if run is not None:
                groups.append(run.build())
                run = None
            groups.append(f"({quote_literal(prefix)} || {member.converted.json})")
            continue
        if run is None:
            run = _Concat()
        else:
            run.text(",")
        run.text(prefix)
        run.sql(member.converted.json)
    if run is not None:
        groups.append(run.build())
    out.text("{")
    out.sql(f"concat_ws(',', {', '.join(groups)})")
    out.text("}")
    return out


def _is_set(column: str, schema: pa.Schema, filled: frozenset[str]) -> bool:
    """Whether ``column``'s values are known to be non-null in the batch."""
    return column in filled and type_family(schema.field(column).type) != "null"


def _attribute_members(
    attributes: dict[str, AttributeSpec], schema: pa.Schema, derive: Derived,
    filled: frozenset[str],
) -> list[_Member]:
    # Every conversion yields a value for a non-null input, or fails a check that rejects
    # the row (``tests/push/test_serialization_plans.py`` holds them to it).
    return [
        _Member(
            name,
            convert(spec.column, schema.field(spec.column).type, spec.type, derive),
            _is_set(spec.column, schema, filled),
        )
        for name, spec in attributes.items()
    ]


def _customer_id_json(column: str) -> str:
    return f"to_json(CAST({quote_identifier(column)} AS VARCHAR))"


def user_element(
    mapping: UserMapping, schema: pa.Schema, derive: Derived, filled: frozenset[str]
) -> tuple[str, list[Check]]:
    """SQL writing each row's customer element, and the checks its values need.

    The element: ``{"type":"customer","customer_id":..,"attributes":{..}}``.
    """
    members = _attribute_members(mapping.output_attributes(), schema, derive, filled)
    if mapping.platforms:
        platforms = orjson.dumps(
            [
                {"platform": spec.platform, "active": "true" if spec.active else "false"}
                for spec in mapping.platforms
            ]
        ).decode()
        members.append(_Member("platforms", Converted(quote_literal(platforms)), True))
    element = _Concat()
    element.text('{"type":"customer","customer_id":')
    # A NULL customer id makes its part vanish, but such rows are rejected anyway.
    element.sql(_customer_id_json(mapping.customer_id))
    element.text(',"attributes":')
    element.extend(_object(members, send_nulls=mapping.send_nulls))
    if mapping.update_existing_only:
        element.text(',"update_existing_only":true')
    element.text("},")
    return element.build(), [check for m in members for check in m.converted.checks]


def event_element(
    mapping: EventMapping, schema: pa.Schema, derive: Derived, filled: frozenset[str]
) -> tuple[str, list[Check]]:
    """SQL writing each row's event element, and the checks its values need.

    The element: ``{"type":"event","customer_id":..,"actions":[{..}]}``.
    """
    members = _attribute_members(mapping.attributes, schema, derive, filled)
    checks = [check for m in members for check in m.converted.checks]
    element = _Concat()
    element.text('{"type":"event","customer_id":')
    element.sql(_customer_id_json(mapping.customer_id))
    element.text(',"actions":[{"action":')
    if mapping.event_name_column:
        element.sql(f"to_json({quote_identifier(mapping.event_name_column)})")
    else:
        element.text(orjson.dumps(mapping.event_name).decode())
    element.text(',"attributes":')
    element.extend(_object(members, send_nulls=mapping.send_nulls))
    if mapping.platform_column:
        # An empty platform is sent without one (NULL), not rejected: never known to be set.
        platform = derive(platform_sql(mapping.platform_column))
        element.optional(',"platform":', f"to_json({platform})", present=False)
    elif mapping.platform:
        element.text(',"platform":' + orjson.dumps(mapping.platform).decode())
    if mapping.app_version_column:
        column = mapping.app_version_column
        element.optional(
            ',"app_version":', f"to_json(CAST({quote_identifier(column)} AS VARCHAR))",
            present=_is_set(column, schema, filled),
        )
    elif mapping.app_version is not None:
        element.text(',"app_version":' + orjson.dumps(mapping.app_version).decode())
    if mapping.event_time_column:
        timestamp, _, _ = event_time_sql(mapping, schema, derive)
        formatted = f"strftime({timestamp}, '{DATETIME_FORMAT}')"
        # A time that does not parse fails a check, so a set column always gives a time.
        if _is_set(mapping.event_time_column, schema, filled):
            element.text(',"current_time":"')
            element.sql(formatted)
            element.text('"')
        else:
            element.optional(',"current_time":', f"('\"' || {formatted} || '\"')", present=False)
    if mapping.user_timezone_offset_column:
        column = mapping.user_timezone_offset_column
        element.optional(
            ',"user_timezone_offset":',
            f"CAST(CAST({quote_identifier(column)} AS BIGINT) AS VARCHAR)",
            present=_is_set(column, schema, filled),
        )
    elif mapping.user_timezone_offset is not None:
        element.text(f',"user_timezone_offset":{mapping.user_timezone_offset}')
    element.text("}]},")
    return element.build(), checks


def catalog_element(
    mapping: CatalogMapping, schema: pa.Schema, derive: Derived, filled: frozenset[str]
) -> tuple[str, list[Check]]:
    """SQL writing each row's catalog item, and the checks its values need.

    The item: ``{"id":..,"title":..,"link":..,"image_link":..,<custom>..}``.
    """
    members = [
        _Member(
            name,
            convert(column, schema.field(column).type, "catalog_string", derive),
            _is_set(column, schema, filled),
        )
        for name, column in mapping.mandatory_columns().items()
    ]
    for name, spec in mapping.attributes.items():
        data_type = schema.field(spec.column).type
        kind = spec.type or infer_catalog_type(data_type)
        target = f"catalog_{kind}"
        converted = convert(spec.column, data_type, target, derive)  # type: ignore[arg-type]
        members.append(_Member(name, converted, _is_set(spec.column, schema, filled)))
    checks = [check for m in members for check in m.converted.checks]
    element = _object(members, send_nulls=False)
    element.text(",")
    return element.build(), checks
