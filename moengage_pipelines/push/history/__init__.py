"""Sync history: one row per push in ``moengage_sync_runs``, and the cursor it leaves."""

from moengage_pipelines.push.history.runs import (
    SYNC_RUNS_SCHEMA,
    SYNC_RUNS_TABLE,
    SyncRuns,
    exit_status,
)

__all__ = ["SYNC_RUNS_SCHEMA", "SYNC_RUNS_TABLE", "SyncRuns", "exit_status"]
