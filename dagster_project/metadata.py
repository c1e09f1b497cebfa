"""Library reports → Dagster materialization metadata."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from moengage_pipelines.push.report import PushReport

__all__ = ["push_metadata"]


def push_metadata(reports: Sequence[PushReport]) -> dict[str, Any]:
    """Metadata of one push run covering one or more daily partitions.

    Args:
        reports: One report per partition pushed (at least one).

    Returns:
        Plain values Dagster renders: counts, bytes, bodies, retries, 429s and rejects by rule
        (see ``PushReport.to_metadata``), plus ``dagster/row_count`` (rows delivered) and
        ``partitions``.
    """
    combined = PushReport.combine(reports)
    return {
        **combined.to_metadata(),
        "partitions": len(reports),
        "dagster/row_count": combined.rows_valid,
    }
