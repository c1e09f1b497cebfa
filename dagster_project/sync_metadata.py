"""Diff-sync plan and sync history as Dagster metadata.

Before a push sends anything, ``observe_plan`` runs it as a dry run (nothing is sent or
written) and logs an ``AssetObservation`` with the plan: rows new, changed, unchanged and
retried, bodies, bytes, requests per rate window, the ETA at MoEngage's documented budget and
whether it fits a day. After the push, ``sync_run_metadata`` reads the run's rows in
``moengage_sync_runs`` so the materialization shows how each partition ended.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dagster as dg

from moengage_pipelines.push.history import SyncRuns
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.plan import plan_push
from moengage_pipelines.warehouse import Warehouse

__all__ = ["observe_plan", "sync_run_metadata"]


def observe_plan(
    context: dg.AssetExecutionContext,
    asset_key: dg.AssetKey,
    *args: Any,
    options: PushOptions,
    partition: str | None = None,
    **kwargs: Any,
) -> None:
    """Log the plan of a push before it runs (``run_push``'s arguments, run as a dry run).

    Only ``ledger`` and ``catalog_state`` are consulted, read-only; dead letters are not
    written.
    """
    dry = replace(options, dry_run=True, on_progress=None)
    report = run_push(*args, options=dry, partition=partition, dead_letters=None, **kwargs)
    plan = plan_push(report)
    context.log.info(f"plan for {asset_key.to_user_string()} {partition or ''}: "
                     + "; ".join(line.strip() for line in plan.lines()))
    context.log_event(dg.AssetObservation(
        asset_key=asset_key, partition=partition, metadata=plan.to_metadata(),
    ))


def sync_run_metadata(results: Warehouse, sync_name: str, runs: int) -> dict[str, Any]:
    """The last ``runs`` rows of a sync in ``moengage_sync_runs``, as metadata."""
    rows = SyncRuns(results).read(sync_name).to_pylist()[-runs:] if runs else []
    exits = [str(row["exit"]) for row in rows]
    return {
        "sync_runs_table": SyncRuns.table,
        "sync_run_exits": ", ".join(exits),
        "sync_rows_retried": sum(int(row["rows_retried"]) for row in rows),
        "sync_rows_unchanged": sum(int(row["rows_unchanged"]) for row in rows),
        "sync_duplicate_keys": sum(int(row["duplicate_keys"]) for row in rows),
    }
