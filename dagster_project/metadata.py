"""Library reports → Dagster materialization metadata."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Number
from typing import Any

from moengage_pipelines.push.report import PushReport

__all__ = ["push_metadata"]


def _combine(key: str, values: list[Any]) -> Any:
    if all(isinstance(value, Number) and not isinstance(value, bool) for value in values):
        # Peaks stay peaks across partitions; everything else is a count or a duration.
        return max(values) if key.startswith(("max_", "peak_")) else sum(values)
    return values[-1]


def push_metadata(reports: Sequence[PushReport]) -> dict[str, Any]:
    """Sum the reports of the partitions pushed in one run into one metadata dict.

    Args:
        reports: One report per partition pushed (at least one).

    Returns:
        Plain values Dagster renders: counts, bytes, bodies, retries, 429s and rejects by rule,
        plus ``dagster/row_count`` (rows delivered) and ``partitions``.
    """
    dicts = [report.to_metadata() for report in reports]
    keys = list(dict.fromkeys(key for metadata in dicts for key in metadata))
    combined = {key: _combine(key, [m[key] for m in dicts if key in m]) for key in keys}
    combined["partitions"] = len(reports)
    combined["dagster/row_count"] = sum(report.rows_valid for report in reports)
    return combined
