"""Library reports → Dagster materialization metadata."""

from __future__ import annotations

from typing import Any

from moengage_pipelines.push.report import PushReport

__all__ = ["push_metadata"]


def push_metadata(total: PushReport, partitions: int) -> dict[str, Any]:
    """Metadata of one push run covering one or more daily partitions.

    Args:
        total: The run's report, its partitions combined (``PushReport.combine``).
        partitions: How many partitions the run pushed.

    Returns:
        Plain values Dagster renders: counts, bytes, bodies, retries, 429s and rejects by rule
        (see ``PushReport.to_metadata``), plus ``dagster/row_count`` (rows delivered) and
        ``partitions``.
    """
    return {
        **total.to_metadata(),
        "partitions": partitions,
        "dagster/row_count": total.rows_valid,
    }
