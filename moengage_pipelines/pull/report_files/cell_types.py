"""The type of each report column, inferred over the whole file, and cell text → value.

A column is a number, a percentage, a date or a timestamp when every non-empty cell reads as
one (``-``, ``NA``, ``null`` and similar are empty); otherwise it is text.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pyarrow as pa

__all__ = ["ColumnInference", "convert_cell"]

_NULL_TOKENS = frozenset({"", "-", "--", "na", "n/a", "null", "none", "nan", "nil"})
_INTEGER = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d-%b-%Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")
_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d %H:%M",
)


class ColumnInference:
    """Narrows the possible type of one column value by value."""

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.text = False

    def see(self, raw: str) -> None:
        """Take one cell into account; one text cell makes the whole column text."""
        if self.text:
            return
        value = raw.strip()
        if value.lower() in _NULL_TOKENS:
            return
        kind = _classify(value)
        if kind == "text":
            self.text = True
            return
        self.kinds.add(kind)

    def result(self) -> tuple[str, pa.DataType]:
        """The column's kind and Arrow type.

        Returns:
            ``(kind, type)``: kind ``number``, ``percent``, ``date``, ``timestamp`` or ``text``.
        """
        kinds = self.kinds
        if self.text or not kinds:
            return "text", pa.string()
        if kinds <= {"number"}:
            # Numbers are DOUBLE even when whole, so a column keeps one type across files.
            return "number", pa.float64()
        if kinds <= {"number", "percent"}:
            return "percent", pa.float64()
        if kinds <= {"date"}:
            return "date", pa.date32()
        if kinds <= {"date", "timestamp"}:
            return "timestamp", pa.timestamp("us")
        return "text", pa.string()


def _classify(value: str) -> str:
    if value.endswith("%"):
        return "percent" if _number(value[:-1].strip()) is not None else "text"
    if _INTEGER.match(value) or _DECIMAL.match(value) or _GROUPED.match(value):
        digits = value.lstrip("+-")
        # "00123" is an identifier, not 123.
        if len(digits) > 1 and digits.startswith("0") and not digits.startswith("0."):
            return "text"
        return "number"
    if _parse_date(value) is not None:
        return "date"
    if _parse_timestamp(value) is not None:
        return "timestamp"
    return "text"


def _number(value: str) -> float | None:
    text = value.replace(",", "") if _GROUPED.match(value) else value
    if _INTEGER.match(text) or _DECIMAL.match(text):
        return float(text)
    return None


def _parse_date(value: str) -> date | None:
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            pass
    return None


def _parse_timestamp(value: str) -> datetime | None:
    for layout in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(value, layout)
        except ValueError:
            pass
    return None


def convert_cell(raw: str, kind: str) -> Any:
    """The value of one cell in a column of ``kind`` (None for an empty cell)."""
    value = raw.strip()
    if kind == "text":
        return raw if value else None
    if value.lower() in _NULL_TOKENS:
        return None
    if kind in ("number", "percent"):
        return _number(value.removesuffix("%").strip())
    if kind == "date":
        return _parse_date(value)
    parsed = _parse_timestamp(value)
    if parsed is not None:
        return parsed
    day = _parse_date(value)
    return datetime(day.year, day.month, day.day) if day else None
