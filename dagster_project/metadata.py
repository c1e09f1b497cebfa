"""Library push reports -> Dagster materialization metadata, typed per entity.

Each entity shows only the figures that apply to it (``users_sent`` on users, ``events_sent``
on events, items on catalogs), the rows rejected per rule as a table, and the standard
``dagster/row_count`` and ``dagster/column_schema`` keys the UI renders.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from moengage_pipelines.push.history import SYNC_RUNS_TABLE, exit_status
from moengage_pipelines.push.report import PushReport

__all__ = ["push_metadata", "rejects_table"]

_SENT_BY_ENTITY = {
    "users": ("users_sent",),
    "events": ("events_sent",),
    "catalog": ("items_sent", "items_updated", "items_deleted", "items_invalid"),
}

# Diff sync compares users and catalog items with what MoEngage confirmed; events are
# appended, so only a ``since last run`` cursor's unchanged count applies to them.
_DIFF_BY_ENTITY = {
    "users": ("rows_new", "rows_changed", "rows_retried", "rows_unchanged", "duplicate_keys"),
    "catalog": ("rows_new", "rows_changed", "rows_retried", "rows_unchanged", "duplicate_keys"),
    "events": ("rows_unchanged",),
}

_REJECTS_SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("rule", "string", description="Why the rows were rejected."),
        dg.TableColumn("rows", "int", description="Rows rejected under it (dead letters)."),
    ]
)


def rejects_table(report: PushReport) -> dg.TableMetadataValue:
    """The rows a push rejected, per rule, as a table (empty when none were)."""
    records = [
        dg.TableRecord({"rule": str(rule), "rows": int(count)})
        for rule, count in sorted(report.rejected_by_rule.items())
    ]
    return dg.MetadataValue.table(records=records, schema=_REJECTS_SCHEMA)


def push_metadata(
    report: PushReport, *, column_schema: dg.TableSchema | None = None
) -> dict[str, Any]:
    """Metadata of one push: one partition's report, or an unpartitioned push's.

    Args:
        report: The push's report.
        column_schema: The fields sent (``sent_column_schema``), if known.

    Returns:
        Counts, bytes, bodies, retries and 429s; the entity's own sent counts; the rejects
        table; diff-sync counts (new, changed, retried, unchanged rows); how the run ended
        (``sync_run_exit``, as in ``moengage_sync_runs``); ``dagster/row_count``: the rows
        MoEngage holds from this push (sent now, or before and skipped or unchanged).
    """
    metadata: dict[str, Any] = {
        "partition": report.partition or "",
        "entity": report.entity,
        "rows_read": report.rows_read,
        "rows_valid": report.rows_valid,
        "rows_rejected": report.rows_rejected,
        **{name: getattr(report, name) for name in _SENT_BY_ENTITY.get(report.entity, ())},
        **{name: getattr(report, name) for name in _DIFF_BY_ENTITY.get(report.entity, ())},
        "rows_skipped": report.rows_skipped,
        "bodies": report.bodies,
        "bodies_skipped": report.bodies_skipped,
        "bytes_sent": report.bytes_sent,
        "max_body_bytes": report.max_body_bytes,
        "largest_body_bytes": report.largest_body_bytes,
        "ideal_bodies": report.ideal_bodies,
        "fill_ratio": dg.MetadataValue.float(round(report.fill_ratio, 4)),
        "retries": report.retries,
        "http_429": report.http_429,
        "splits": report.splits,
        "budget_wait_seconds": dg.MetadataValue.float(round(report.budget_wait_seconds, 3)),
        "duration_seconds": dg.MetadataValue.float(round(report.duration_seconds, 3)),
        "rows_per_second": dg.MetadataValue.float(round(report.rows_per_second, 1)),
        "rejected_by_rule": rejects_table(report),
        "dagster/row_count": report.rows_sent + report.rows_skipped + report.rows_unchanged,
        "sync_run_exit": exit_status(report),
        "sync_runs_table": SYNC_RUNS_TABLE,
    }
    if report.dry_run:
        metadata["dry_run"] = True
    if not report.ok:
        metadata.update(
            failed_bodies=report.failed_bodies,
            failed_rows=report.failed_rows,
            ambiguous_bodies=report.ambiguous_bodies,
            ambiguous_rows=report.ambiguous_rows,
            bodies_held=report.bodies_held,
            rows_held=report.rows_held,
        )
        if report.stop_reason:
            metadata["stop_reason"] = report.stop_reason
    if column_schema is not None:
        metadata["dagster/column_schema"] = dg.MetadataValue.table_schema(column_schema)
    return metadata
