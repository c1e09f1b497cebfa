"""Diff-sync plan and sync history as Dagster metadata.

Before a push sends anything, ``observe_plan`` runs it as a dry run (nothing is sent or
written) and logs an ``AssetObservation`` with the plan: rows new, changed, unchanged and
retried, bodies, bytes, requests per rate window, the ETA at MoEngage's documented budget and
whether it fits a day. How each partition ended is in its materialization metadata
(``dagster_project.metadata``) and in the ``moengage_sync_runs`` table.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dagster as dg

from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.plan import plan_push

__all__ = ["observe_plan"]


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
