"""Pull reports → materialization metadata: table metadata and a per-day chart.

Numeric metadata (``sent``, ``delivered``, ``clicks``, ``conversions``) is plotted by the
Dagster UI on the asset's *Plots* tab, one point per partition; the markdown table shows the
days one run pulled, with bars, on the materialization itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg
import pyarrow as pa

from moengage_pipelines.pull.stats.load import CHART_METRICS, DaySummary

__all__ = ["day_chart_markdown", "table_schema"]

_BAR_WIDTH = 20


def table_schema(schema: pa.Schema) -> dg.TableSchema:
    """The ``dagster/column_schema`` of an Arrow schema."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(field.name, str(field.type), constraints=_constraints(field))
            for field in schema
        ]
    )


def _constraints(field: pa.Field) -> dg.TableColumnConstraints | None:
    return None if field.nullable else dg.TableColumnConstraints(nullable=False)


def _bar(value: float, peak: float) -> str:
    if peak <= 0 or value <= 0:
        return ""
    return "█" * max(1, round(value / peak * _BAR_WIDTH))


def day_chart_markdown(
    days: Sequence[DaySummary], partition_days: Sequence[Any], title: str
) -> str:
    """A markdown table of sent / delivered / clicks / conversions per day, with bars.

    Args:
        days: The days pulled, ascending.
        partition_days: The run's partition days (others were re-pulled for the lookback).
        title: A line above the table.
    """
    peak = max((day.totals.get("sent", 0.0) for day in days), default=0.0)
    header = "| day | " + " | ".join(CHART_METRICS) + " | sent |"
    lines = [f"**{title}**", "", header, "|" + "---|" * (len(CHART_METRICS) + 2)]
    partitions = {str(day) for day in partition_days}
    for day in days:
        label = day.day.isoformat()
        label = label if label in partitions else f"{label} (re-pulled)"
        values = " | ".join(f"{day.totals.get(metric, 0.0):,.0f}" for metric in CHART_METRICS)
        lines.append(f"| {label} | {values} | `{_bar(day.totals.get('sent', 0.0), peak)}` |")
    if not days:
        lines.append("| (no day pulled) |" + " |" * (len(CHART_METRICS) + 1))
    return "\n".join(lines)
