"""``PushLedger``: reads and writes the delivery state's tables (see ``tables``)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from moengage_pipelines.push.ledger.layout import ensure_layout
from moengage_pipelines.push.ledger.policy import Delivery
from moengage_pipelines.push.ledger.tables import (
    AMBIGUOUS,
    LEDGER_SCHEMA,
    RUNS_SCHEMA,
    SENDING,
    SENT,
)
from moengage_pipelines.warehouse import Warehouse, quote_identifier

__all__ = ["BodyKey", "PushLedger"]

# (body_seq, piece, sha256): a body's identity within one push of one partition.
BodyKey = tuple[int, str, str]


class PushLedger:
    """What each push sent to MoEngage, body by body, in two warehouse tables.

    Pass one to ``run_push(..., ledger=...)``; dry runs read it but never write to it.

    Args:
        warehouse: Where the tables live (DuckDB or PostgreSQL); created on first write.
        table: The ledger table.
        runs_table: The table of pushes.
        run_id: The orchestrator's run id, stored with every row (e.g. Dagster's).
    """

    DEFAULT_TABLE = "moengage_push_ledger"
    DEFAULT_RUNS_TABLE = "moengage_push_runs"

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        table: str = DEFAULT_TABLE,
        runs_table: str = DEFAULT_RUNS_TABLE,
        run_id: str | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.table = table
        self.runs_table = runs_table
        self.run_id = run_id
        self._prepared = False

    def __repr__(self) -> str:
        return f"PushLedger({self.warehouse.describe()!r}, table={self.table!r})"

    # -- reading ----------------------------------------------------------------------------

    def statuses(
        self, sync_name: str, partition: str | None, destination: str | None
    ) -> dict[BodyKey, Delivery]:
        """Bodies of a partition that MoEngage accepted or may have applied.

        Args:
            sync_name: The push.
            partition: Its partition.
            destination: Where the bodies go; None merges every destination (a dry run that
                does not know where it would send), a body counting as sent if it was sent
                anywhere.

        Returns:
            ``(body_seq, piece, sha256)`` to ``Delivery.SENT`` or ``Delivery.AMBIGUOUS`` (an
            ambiguous outcome, or a body that went out without an outcome recorded). Bodies
            only ever ``failed`` are left out: they are sent again like new ones.
        """
        ensure_layout(self.warehouse, read_only=True)
        name = self.warehouse.table_name(self.table)
        if not self.warehouse.table_exists(name):
            return {}
        scope: dict[str, Any] = {"sync_name": sync_name, "partition": partition}
        if destination is not None:
            scope["destination"] = destination
        where, params = self.warehouse.where_clause(name, scope)
        # One intent and at most one outcome per body and push: an intent whose push wrote
        # no outcome means the answer never got recorded.
        result = self.warehouse.query(
            f"""
            WITH attempts AS (
                SELECT body_seq, piece, sha256, push_id,
                       bool_or(status = '{SENT}') AS sent,
                       bool_or(status = '{AMBIGUOUS}') AS ambiguous,
                       bool_or(status = '{SENDING}') AS intended,
                       bool_or(status <> '{SENDING}') AS answered
                FROM {name.sql}{where}
                GROUP BY body_seq, piece, sha256, push_id
            )
            SELECT body_seq, piece, sha256, bool_or(sent) AS sent
            FROM attempts
            GROUP BY body_seq, piece, sha256
            HAVING bool_or(sent) OR bool_or(ambiguous OR (intended AND NOT answered))
            """,
            params or None,
        )
        return {
            (int(seq), piece, sha): Delivery.SENT if sent else Delivery.AMBIGUOUS
            for seq, piece, sha, sent in zip(
                *(result.column(i).to_pylist() for i in range(4)), strict=True
            )
        }

    def read(self, sync_name: str | None = None, partition: str | None = None) -> pa.Table:
        """Ledger rows (optionally of one sync and/or partition) in the order written."""
        return self._read(self.table, LEDGER_SCHEMA, sync_name, partition)

    def runs(self, sync_name: str | None = None, partition: str | None = None) -> pa.Table:
        """Pushes recorded (optionally of one sync and/or partition), oldest first."""
        return self._read(self.runs_table, RUNS_SCHEMA, sync_name, partition)

    def _read(
        self, table: str, schema: pa.Schema, sync_name: str | None, partition: str | None
    ) -> pa.Table:
        name = self.warehouse.table_name(table)
        if not self.warehouse.table_exists(name):
            return schema.empty_table()
        filters = {"sync_name": sync_name, "partition": partition}
        where, params = self.warehouse.where_clause(
            name, {key: value for key, value in filters.items() if value is not None}
        )
        order = "recorded_at" if schema is LEDGER_SCHEMA else "started_at"
        return self.warehouse.query(
            f"SELECT * FROM {name.sql}{where} ORDER BY {order}", params or None
        )

    # -- writing ----------------------------------------------------------------------------

    def clear_partition(self, sync_name: str, partition: str | None) -> None:
        """Forget what a partition sent: its next push sends every body again."""
        where = {"sync_name": sync_name, "partition": partition}
        self.warehouse.replace_rows(self.table, LEDGER_SCHEMA.empty_table(), where)

    def append(self, rows: list[dict[str, Any]]) -> None:
        """Append ledger rows (dicts with the ``LEDGER_SCHEMA`` columns) in one statement.

        Rows are written one body at a time, so this is a plain ``INSERT``: a few
        milliseconds, where an Arrow append would first inspect the table each time.
        """
        if not rows:
            return
        table = self._prepare()
        names = LEDGER_SCHEMA.names
        width = len(names)
        values = ", ".join(
            "(" + ", ".join(self.warehouse.param(row * width + i + 1) for i in range(width)) + ")"
            for row in range(len(rows))
        )
        columns = ", ".join(quote_identifier(name) for name in names)
        self.warehouse.execute(
            f"INSERT INTO {table} ({columns}) VALUES {values}",
            [row[name] for row in rows for name in names],
        )

    def _prepare(self) -> str:
        """Create the ledger table (or add columns it lacks) once; return its SQL name."""
        name = self.warehouse.table_name(self.table)
        if not self._prepared:
            ensure_layout(self.warehouse)
            self.warehouse.append(name, LEDGER_SCHEMA.empty_table())
            if self.warehouse.kind == "postgres":
                # PostgreSQL would scan the whole table per partition without one; DuckDB's
                # zone maps already skip what does not match, and an index slows its inserts.
                index = quote_identifier(f"{name.name}_partition_idx")
                self.warehouse.execute(
                    f'CREATE INDEX IF NOT EXISTS {index} ON {name.sql} (sync_name, "partition")'
                )
            self._prepared = True
        return name.sql

    def write_run(self, row: dict[str, Any]) -> None:
        """Insert or replace the row of one push (keyed by ``push_id``)."""
        ensure_layout(self.warehouse)
        data = pa.RecordBatch.from_pylist([row], schema=RUNS_SCHEMA)
        self.warehouse.replace_rows(self.runs_table, data, where={"push_id": row["push_id"]})
