"""The table of one configured campaign report: ``moengage_report_<name in snake case>``."""

from __future__ import annotations

import re

__all__ = ["report_table_name"]

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def report_table_name(report_name: str) -> str:
    """Table of one configured report: ``moengage_report_<name in snake case>``.

    Args:
        report_name: The report's name as configured in the dashboard, e.g. ``"Daily Push"``.

    Raises:
        ValueError: If the name has no letter or digit.
    """
    slug = _NOT_WORD.sub("_", report_name.lower()).strip("_")
    if not slug:
        raise ValueError(f"report name {report_name!r} has no letter or digit")
    return f"moengage_report_{slug}"
