"""Customer and item ids as text: without surrounding whitespace unless the mapping keeps it.

MoEngage compares ids as they are, so ``" cust-7"`` and ``"cust-7"`` would be two users;
warehouses pad ids (``CHAR`` columns, loads from files). The rules always look at the trimmed
id; it is also what is sent unless the mapping says ``keep``.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from moengage_pipelines.push.mapping import EntityMapping
from moengage_pipelines.push.prepare.column_types import type_family
from moengage_pipelines.push.prepare.sql_text import inline_sql
from moengage_pipelines.warehouse.identifiers import quote_identifier, quote_literal

__all__ = ["ID_WHITESPACE", "row_key_sql", "trimmed_id_sql"]

# Taken off both ends of ids: spaces (CHAR padding), tabs, line breaks, vertical tabs and
# form feeds.
ID_WHITESPACE = " \t\n\r\x0b\x0c"


def trimmed_id_sql(column: str, data_type: pa.DataType) -> str:
    """An id column as text without surrounding whitespace (``ID_WHITESPACE``).

    ``trim`` with a set of characters costs four times a plain one, so it only runs on ids
    whose first or last character is a space or a control character.
    """
    text = f"CAST({quote_identifier(column)} AS VARCHAR)"
    if type_family(data_type) != "string":
        return text  # numbers have no whitespace to take off
    return (
        f"CASE WHEN {text}[1] > ' ' AND {text}[-1] > ' ' THEN {text} "
        f"ELSE trim({text}, {quote_literal(ID_WHITESPACE)}) END"
    )


def row_key_sql(
    mapping: EntityMapping, schema: pa.Schema, derive: Callable[[str], str] = inline_sql
) -> str:
    """The row key (customer or item id) as text, as it is sent.

    Trimmed unless the mapping keeps whitespace; the checks always look at the trimmed text.
    """
    column = mapping.row_key_column
    if mapping.key_whitespace == "trim":
        return derive(trimmed_id_sql(column, schema.field(column).type))
    return f"CAST({quote_identifier(column)} AS VARCHAR)"
