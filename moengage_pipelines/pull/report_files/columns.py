"""Warehouse column names for the CSV headers of a report file.

The CSV columns are not documented, so every column is kept: headers become snake_case names,
unique within the table, never one of the columns the pull adds itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["RESERVED_COLUMNS", "column_names", "extend_column_names", "member_column_names"]

RESERVED_COLUMNS = ("report_date", "file", "member", "row_number")
"""Columns the pull adds to every report table; a CSV column of the same name gets ``csv_``."""

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def column_names(headers: Sequence[str], taken: Sequence[str] = ()) -> list[str]:
    """Warehouse names for CSV headers: snake_case, unique, never a reserved name.

    ``"All Platform Sent"`` → ``all_platform_sent``; an empty header → ``column_<n>``; a
    repeat gets ``_2``, ``_3``...; ``report_date`` → ``csv_report_date``.
    """
    used = set(RESERVED_COLUMNS) | set(taken)
    names = []
    for position, header in enumerate(headers, start=1):
        name = _column_name(header, position, used)
        used.add(name)
        names.append(name)
    return names


def _column_name(header: str, position: int, used: set[str]) -> str:
    base = _NOT_WORD.sub("_", header.strip().lower()).strip("_") or f"column_{position}"
    if base[0].isdigit():
        base = f"c_{base}"
    if base in RESERVED_COLUMNS:
        base = f"csv_{base}"
    name, suffix = base, 2
    while name in used:
        name, suffix = f"{base}_{suffix}", suffix + 1
    return name


def member_column_names(header: list[str], headers: dict[str, str]) -> list[str]:
    """Names of one CSV's columns; a header already seen in another CSV keeps its name.

    ``headers`` maps every name given so far to its header text and is updated in place, so
    both passes over the file, making the same calls in the same order, get the same names.
    """
    by_header: dict[str, str] = {}
    for name, text in headers.items():
        by_header.setdefault(text, name)
    names: list[str] = []
    for position, text in enumerate(header, start=1):
        name = by_header.get(text)
        if name is None or name in names:
            name = _column_name(text, position, set(RESERVED_COLUMNS) | set(headers))
            headers[name] = text
        names.append(name)
    return names


def extend_column_names(names: list[str], width: int, headers: dict[str, str]) -> list[str]:
    """``names`` widened to ``width`` with ``extra_<n>`` names for fields beyond the header."""
    names = list(names)
    while len(names) < width:
        extra = f"extra_{len(names) + 1}"
        headers.setdefault(extra, extra)
        names.append(extra)
    return names
