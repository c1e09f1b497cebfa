"""``moengage_sync_runs``: one row per push, so a data team can watch syncs from SQL.

=================  ============  ===================================================
column             type          meaning
=================  ============  ===================================================
run_key            text          this push (unique)
run_id             text, null    the orchestrator's run id
sync_name          text          the sync
entity             text          ``users``, ``events`` or ``catalog``
destination        text, null    API base URL, workspace and entity (no key)
partition          text, null    the partition key, if any
window_start       timestamptz   the window read, if any (the cursor's start)
window_end         timestamptz   its end: the cursor the next ``since_last_run`` uses
started_at         timestamptz   when the push started (UTC)
finished_at        timestamptz   when it ended (UTC)
exit               text          ``ok``, ``incomplete`` (rows failed or held) or
                                 ``error`` (the push raised)
rows_read ...      bigint        counts by outcome: read, rejected, sent, skipped,
                                 held, failed, new, changed, retried, unchanged,
                                 duplicate keys
bodies             bigint        requests sent
bytes_sent         bigint        their bytes
error              text, null    why it raised (never key material)
=================  ============  ===================================================
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from moengage_pipelines.push.ledger.layout import ensure_layout
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.redaction import scrub_secrets
from moengage_pipelines.warehouse import Warehouse

__all__ = ["SYNC_RUNS_SCHEMA", "SYNC_RUNS_TABLE", "SyncRuns", "exit_status"]

SYNC_RUNS_TABLE = "moengage_sync_runs"
_TIME = pa.timestamp("us", tz="UTC")
_COUNTS = (
    "rows_read", "rows_rejected", "rows_sent", "rows_skipped", "rows_held", "failed_rows",
    "rows_new", "rows_changed", "rows_retried", "rows_unchanged", "duplicate_keys", "bodies",
    "bytes_sent",
)
SYNC_RUNS_SCHEMA = pa.schema(
    [
        pa.field("run_key", pa.string(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("sync_name", pa.string(), nullable=False),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("destination", pa.string()),
        pa.field("partition", pa.string()),
        pa.field("window_start", _TIME),
        pa.field("window_end", _TIME),
        pa.field("started_at", _TIME, nullable=False),
        pa.field("finished_at", _TIME),
        pa.field("exit", pa.string(), nullable=False),
        *(pa.field(name, pa.int64(), nullable=False) for name in _COUNTS),
        pa.field("error", pa.string()),
    ]
)


def exit_status(report: PushReport | None, error: BaseException | None = None) -> str:
    """``error`` when the push raised, ``incomplete`` when rows failed or were held, else ``ok``."""
    if error is not None or report is None:
        return "error"
    return "ok" if report.ok else "incomplete"


@dataclass
class SyncRuns:
    """The sync history in the state store (or a results warehouse).

    Args:
        warehouse: Where ``moengage_sync_runs`` lives.
        table: Its name.
    """

    warehouse: Warehouse
    table: str = SYNC_RUNS_TABLE

    def record(
        self,
        *,
        sync_name: str,
        entity: str,
        started_at: datetime,
        report: PushReport | None,
        error: BaseException | None = None,
        destination: str | None = None,
        partition: str | None = None,
        window: Any = None,
        run_id: str | None = None,
    ) -> dict[str, Any]:
        """Write the row of one finished push and return it."""
        ensure_layout(self.warehouse)
        row: dict[str, Any] = {
            "run_key": uuid.uuid4().hex, "run_id": run_id, "sync_name": sync_name,
            "entity": entity, "destination": destination, "partition": partition,
            "window_start": getattr(window, "start", None),
            "window_end": getattr(window, "end", None),
            "started_at": started_at, "finished_at": datetime.now(UTC),
            "exit": exit_status(report, error),
            "error": None,
        }
        if error is not None:
            row["error"] = scrub_secrets(f"{type(error).__name__}: {error}", ())[:2000]
        for name in _COUNTS:
            value = getattr(report, name, 0) if report is not None else 0
            row[name] = int(value or 0)
        batch = pa.RecordBatch.from_pylist([row], schema=SYNC_RUNS_SCHEMA)
        self.warehouse.append(self.table, batch)
        return row

    def read(self, sync_name: str | None = None) -> pa.Table:
        """The runs (optionally of one sync), oldest first."""
        name = self.warehouse.table_name(self.table)
        if not self.warehouse.table_exists(name):
            return SYNC_RUNS_SCHEMA.empty_table()
        where, params = self.warehouse.where_clause(
            name, {} if sync_name is None else {"sync_name": sync_name}
        )
        return self.warehouse.query(
            f"SELECT * FROM {name.sql}{where} ORDER BY started_at", params or None
        )

    def cursor(self, sync_name: str, destination: str | None) -> datetime | None:
        """The window end of the sync's last ``ok`` run at a destination (None: never ran)."""
        name = self.warehouse.table_name(self.table)
        if not self.warehouse.table_exists(name):
            return None
        scope: dict[str, Any] = {"sync_name": sync_name, "exit": "ok"}
        if destination is not None:
            scope["destination"] = destination
        where, params = self.warehouse.where_clause(name, scope)
        found = self.warehouse.query(
            f"SELECT max(window_end) AS cursor FROM {name.sql}{where}", params or None
        ).column(0)[0].as_py()
        return found
