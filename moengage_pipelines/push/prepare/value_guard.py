"""The last check before an element is written: every value in it must be a JSON value.

An element is literal JSON text (keys, braces, commas) around the JSON texts of its values.
The conversions yield a JSON text, or NULL for a value to leave out, or fail a row check; a
value text that is empty (DuckDB's ``to_json`` writes nothing for a string it cannot encode)
or a bare ``NaN``/``Infinity`` would turn the whole element, and the request body carrying
it, into invalid JSON (``"x":}``). So each value is computed once as a column of its own,
the element is written from those columns, and a guard check per value rejects such a row
(``invalid_json``, naming the column) instead of writing it.

The guard costs one comparison of a short text per value (about 3% of the serialization
query on the benchmark events), not a parse of the element: validating every element with
``json_valid`` made the query 45% slower, and DuckDB's reader accepts ``NaN`` and trailing
commas anyway. Literal parts are written by ``orjson``, strings reach DuckDB as valid UTF-8
(see ``invalid_utf8``), and only a float becomes a bare ``NaN``: so an element whose values
pass the guard is valid JSON.
"""

from __future__ import annotations

from moengage_pipelines.push.prepare.rules import Rule
from moengage_pipelines.push.prepare.sql_text import Check
from moengage_pipelines.warehouse.identifiers import quote_identifier

__all__ = ["GuardedValues"]

# What ``to_json`` writes for a non-finite float: not JSON.
_NON_FINITE_TEXTS = "'NaN', 'Infinity', '-Infinity'"


class GuardedValues:
    """The JSON texts of an element's values, each a named column with its guard check.

    Calling the registry with a value's SQL returns the quoted name to write in the element.
    A value the element writes without the null handling (a column known to hold no null,
    see ``compile_plan``) must not be NULL either: ``concat`` would drop it and leave
    ``"x":`` without a value. Such a value is computed as ``coalesce(value, '')``, so that the
    one test for an empty text catches it too; the checks are then the same in every plan of
    a mapping, whichever columns a batch fills.

    Args:
        prefix: Start of the value columns' names (see ``sql_text.query_prefix``).
    """

    def __init__(self, prefix: str = "__moengage_") -> None:
        self.prefix = prefix
        self._columns: list[tuple[str, str]] = []
        self.guards: list[Check] = []

    def __call__(
        self, sql: str, column: str, *, present: bool = False, float_input: bool = False
    ) -> str:
        """Register a value; return the quoted name of its column.

        Args:
            sql: SQL giving the value's JSON text, NULL for a value left out.
            column: The source column it comes from (named by a rejection).
            present: The element writes the value without the null handling.
            float_input: The column is a float one, whose value is the only kind that could
                be a bare ``NaN``.
        """
        name = quote_identifier(f"{self.prefix}v{len(self._columns)}")
        self._columns.append((f"coalesce({sql}, '')" if present else sql, name))
        condition = f"{name} = ''"
        if float_input:
            condition = f"{name} IN ('', {_NON_FINITE_TEXTS})"
        self.guards.append(
            Check(
                Rule.INVALID_JSON,
                column,
                condition,
                f"{column} could not be written as a JSON value; the row was not sent",
            )
        )
        return name

    def select_list(self) -> str:
        """``sql AS name, ...`` for the query computing the values (empty when none)."""
        return ", ".join(f"{sql} AS {name}" for sql, name in self._columns)
