"""SQL fragments of the statements ``RowHashes`` sends to the state store."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from moengage_pipelines.warehouse import quote_literal

__all__ = ["fill", "numbered_slice", "scope", "timestamp", "values_relation"]


def numbered_slice(table: str, start: int, length: int) -> str:
    """Rows ``start`` to ``start + length`` of a numbered temporary table."""
    return (
        f"(SELECT row_key, element_hash, row_number FROM {table} "
        f"WHERE slice_position > {int(start)} AND slice_position <= {int(start + length)})"
    )


def fill(sql: str, rows: str, table: str) -> str:
    """Put the rows' relation and the table's name into a statement.

    Not ``str.format``: quoted values such as a sync name may hold braces.
    """
    return sql.replace("{rows}", rows).replace("{table}", table)


def scope(sync_name: str, destination: str, alias: str) -> str:
    """The condition choosing one sync's rows at one destination (columns of ``alias``)."""
    return (
        f"{alias}sync_name = {quote_literal(sync_name)} "
        f"AND {alias}destination = {quote_literal(destination)}"
    )


def values_relation(rows: pa.Table) -> str:
    """The rows as a ``VALUES`` relation: a read-only store takes no staging rows."""
    names = rows.column_names
    lines = []
    for row in zip(*(rows.column(name).to_pylist() for name in names), strict=True):
        cells = [
            "NULL" if value is None else str(int(value)) if isinstance(value, int)
            else quote_literal(str(value))
            for value in row
        ]
        lines.append(f"({', '.join(cells)})")
    columns = ", ".join(names)
    return f"(VALUES {', '.join(lines)}) AS v ({columns})"


def timestamp(moment: datetime) -> str:
    """A moment as a UTC ``TIMESTAMPTZ`` literal."""
    return f"CAST({quote_literal(moment.astimezone(UTC).isoformat())} AS TIMESTAMPTZ)"
