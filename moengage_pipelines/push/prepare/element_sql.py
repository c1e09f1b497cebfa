"""The SQL that writes one compact JSON element per row, for users, events and catalog items.

Every value goes through ``GuardedValues``: it is computed as a column of its own and the
element is written from those columns, so that a value that is not JSON rejects its row
instead of breaking the element (see ``value_guard``).
"""

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
from moengage_pipelines.push.prepare.ids import row_key_sql
from moengage_pipelines.push.prepare.rules import event_time_sql, platform_sql
from moengage_pipelines.push.prepare.sql_text import Check, Converted, Derived, json_key
from moengage_pipelines.push.prepare.value_guard import GuardedValues
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
        value: The name of its value's JSON text (NULL when null; see ``GuardedValues``).
        present: The value is never NULL on the rows that are sent.
    """

    key: str
    value: str
    present: bool


def _member(
    key: str, column: str, converted: Converted, present: bool, schema: pa.Schema,
    values: GuardedValues, *, send_nulls: bool = False,
) -> _Member:
    # Under ``send_nulls`` every value is written as ``coalesce(value, 'null')``: never plainly.
    value = values(
        converted.json, column, present=present and not send_nulls,
        float_input=type_family(schema.field(column).type) == "float",
    )
    return _Member(key, value, present)


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
        members = [_Member(m.key, f"coalesce({m.value}, 'null')", True) for m in members]
    if all(member.present for member in members):
        for index, member in enumerate(members):
            out.text(("{" if index == 0 else ",") + json_key(member.key) + ":")
            out.sql(member.value)
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
            groups.append(f"({quote_literal(prefix)} || {member.value})")
            continue
        if run is None:
            run = _Concat()
        else:
            run.text(",")
        run.text(prefix)
        run.sql(member.value)
    if run is not None:
        groups.append(run.build())
    out.text("{")
    out.sql(f"concat_ws(',', {', '.join(groups)})")
    out.text("}")
    return out


def _is_set(column: str, schema: pa.Schema, filled: frozenset[str]) -> bool:
    """Whether ``column``'s values are known to be non-null (and finite) in the batch."""
    return column in filled and type_family(schema.field(column).type) != "null"


def _attribute_members(
    mapping: UserMapping | EventMapping, attributes: dict[str, AttributeSpec],
    schema: pa.Schema, derive: Derived, values: GuardedValues, filled: frozenset[str],
) -> tuple[list[_Member], list[Check]]:
    # Every conversion yields a value for a non-null (and finite) input, or fails a check
    # that rejects the row (``tests/push/test_serialization_plans.py`` holds them to it).
    members: list[_Member] = []
    checks: list[Check] = []
    for name, spec in attributes.items():
        data_type = schema.field(spec.column).type
        converted = convert(spec.column, data_type, spec.type, derive, mapping.non_finite)
        present = _is_set(spec.column, schema, filled)
        members.append(
            _member(name, spec.column, converted, present, schema, values,
                    send_nulls=mapping.send_nulls)
        )
        checks += converted.checks
    return members, checks


def user_element(
    mapping: UserMapping, schema: pa.Schema, derive: Derived, values: GuardedValues,
    filled: frozenset[str],
) -> tuple[str, list[Check]]:
    """SQL writing each row's customer element, and the checks its values need.

    The element: ``{"type":"customer","customer_id":..,"attributes":{..}}``.
    """
    members, checks = _attribute_members(
        mapping, mapping.output_attributes(), schema, derive, values, filled
    )
    if mapping.platforms:
        platforms = orjson.dumps(
            [
                {"platform": spec.platform, "active": "true" if spec.active else "false"}
                for spec in mapping.platforms
            ]
        ).decode()
        # A constant: written as it is, nothing to guard.
        members.append(_Member("platforms", quote_literal(platforms), True))
    element = _Concat()
    element.text('{"type":"customer","customer_id":')
    element.sql(_customer_id_value(mapping, schema, derive, values))
    element.text(',"attributes":')
    element.extend(_object(members, send_nulls=mapping.send_nulls))
    if mapping.update_existing_only:
        element.text(',"update_existing_only":true')
    element.text("},")
    return element.build(), checks


def _customer_id_value(
    mapping: UserMapping | EventMapping, schema: pa.Schema, derive: Derived,
    values: GuardedValues,
) -> str:
    return values(
        f"CAST(to_json({row_key_sql(mapping, schema, derive)}) AS VARCHAR)", mapping.customer_id,
        present=True,
    )


def event_element(
    mapping: EventMapping, schema: pa.Schema, derive: Derived, values: GuardedValues,
    filled: frozenset[str],
) -> tuple[str, list[Check]]:
    """SQL writing each row's event element, and the checks its values need.

    The element: ``{"type":"event","customer_id":..,"actions":[{..}]}``.
    """
    members, checks = _attribute_members(
        mapping, mapping.attributes, schema, derive, values, filled
    )
    element = _Concat()
    element.text('{"type":"event","customer_id":')
    element.sql(_customer_id_value(mapping, schema, derive, values))
    element.text(',"actions":[{"action":')
    if mapping.event_name_column:
        column = mapping.event_name_column
        element.sql(
            values(f"CAST(to_json({quote_identifier(column)}) AS VARCHAR)", column, present=True)
        )
    else:
        element.text(orjson.dumps(mapping.event_name).decode())
    element.text(',"attributes":')
    element.extend(_object(members, send_nulls=mapping.send_nulls))
    if mapping.platform_column:
        # An empty platform is sent without one (NULL), not rejected: never known to be set.
        column = mapping.platform_column
        platform = derive(platform_sql(column))
        value = values(f"CAST(to_json({platform}) AS VARCHAR)", column)
        element.optional(',"platform":', value, present=False)
    elif mapping.platform:
        element.text(',"platform":' + orjson.dumps(mapping.platform).decode())
    if mapping.app_version_column:
        column = mapping.app_version_column
        present = _is_set(column, schema, filled)
        value = values(
            f"CAST(to_json(CAST({quote_identifier(column)} AS VARCHAR)) AS VARCHAR)", column,
            present=present,
        )
        element.optional(',"app_version":', value, present=present)
    elif mapping.app_version is not None:
        element.text(',"app_version":' + orjson.dumps(mapping.app_version).decode())
    if mapping.event_time_column:
        column = mapping.event_time_column
        timestamp, _, _ = event_time_sql(mapping, schema, derive)
        # A time that does not parse fails a check, so a set column always gives a time.
        present = _is_set(column, schema, filled)
        value = values(f"strftime({timestamp}, '{DATETIME_FORMAT}')", column, present=present)
        if present:
            element.text(',"current_time":"')
            element.sql(value)
            element.text('"')
        else:
            element.optional(',"current_time":', f"('\"' || {value} || '\"')", present=False)
    if mapping.user_timezone_offset_column:
        column = mapping.user_timezone_offset_column
        # NaN is left out (``non_finite: null``) or fails the offset check, like a value out
        # of range; TRY_CAST keeps such a row from failing the whole query.
        present = _is_set(column, schema, filled)
        value = values(
            f"CAST(TRY_CAST({quote_identifier(column)} AS BIGINT) AS VARCHAR)", column,
            present=present,
        )
        element.optional(',"user_timezone_offset":', value, present=present)
    elif mapping.user_timezone_offset is not None:
        element.text(f',"user_timezone_offset":{mapping.user_timezone_offset}')
    element.text("}]},")
    return element.build(), checks


def catalog_element(
    mapping: CatalogMapping, schema: pa.Schema, derive: Derived, values: GuardedValues,
    filled: frozenset[str],
) -> tuple[str, list[Check]]:
    """SQL writing each row's catalog item, and the checks its values need.

    The item: ``{"id":..,"title":..,"link":..,"image_link":..,<custom>..}``.
    """
    members: list[_Member] = []
    checks: list[Check] = []
    for name, column in mapping.mandatory_columns().items():
        if name == "id":
            item_id = row_key_sql(mapping, schema, derive)
            converted = Converted(f"CAST(to_json({item_id}) AS VARCHAR)")
        else:
            # Mandatory: a NaN is no value, so it rejects the row whatever ``non_finite`` says.
            data_type = schema.field(column).type
            converted = convert(column, data_type, "catalog_string", derive, "reject")
        present = _is_set(column, schema, filled)
        members.append(_member(name, column, converted, present, schema, values))
        checks += converted.checks
    for name, spec in mapping.attributes.items():
        data_type = schema.field(spec.column).type
        kind = spec.type or infer_catalog_type(data_type)
        target = f"catalog_{kind}"
        converted = convert(
            spec.column, data_type, target, derive, mapping.non_finite  # type: ignore[arg-type]
        )
        present = _is_set(spec.column, schema, filled)
        members.append(_member(name, spec.column, converted, present, schema, values))
        checks += converted.checks
    element = _object(members, send_nulls=False)
    element.text(",")
    return element.build(), checks
