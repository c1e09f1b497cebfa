"""The push ledger: what each push sent to MoEngage, body by body, in two warehouse tables.

``moengage_pipelines.push.state`` explains how pushes use it. The tables are created on first
write in the results warehouse (DuckDB or PostgreSQL).

``moengage_push_ledger`` (one row per intent or outcome):

=================  ===========  ====================================================
column             type         meaning
=================  ===========  ====================================================
sync_name          text         the push (e.g. an asset key)
partition          text, null   partition key of the run
destination        text         workspace id, plus ``/catalog/<id>`` for catalogs
sha256             text         SHA-256 of the exact body bytes (hex)
occurrence         bigint       identical bodies earlier in the partition's stream
push_id            text         the push that wrote the row (``moengage_push_runs``)
run_id             text, null   the orchestrator's run id, if given
body_seq           bigint, null position of the body in the partition's stream
                                (null for pieces of a body split after a 413)
first_row          bigint, null source row of the body's first element
rows               bigint       elements (rows) in the body
users              bigint       customer elements
events             bigint       event actions
items              bigint       catalog items
bytes              bigint       body size on the wire
status             text         ``sending``, ``sent``, ``failed`` or ``ambiguous``
http_status        integer      status of the last answer, if any
ambiguous_retries  integer      retries after attempts MoEngage may have applied
message            text, null   why a body failed
recorded_at        timestamptz  when the row was written (UTC)
=================  ===========  ====================================================

``moengage_push_runs`` has one row per push of a partition (``push_id``): when it started and
finished, its status (``running``, ``succeeded``, ``incomplete``, ``error``; a push that
stays ``running`` died) and its counters.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa

from moengage_pipelines.warehouse import Warehouse, quote_identifier

if TYPE_CHECKING:
    from moengage_pipelines.push.state import LedgerSession

__all__ = [
    "AMBIGUOUS",
    "FAILED",
    "LEDGER_SCHEMA",
    "RESEND_POLICIES",
    "RUNS_SCHEMA",
    "SENDING",
    "SENT",
    "PushLedger",
    "ResendPolicy",
    "check_resend",
    "default_resend",
    "utc_now",
]

ResendPolicy = Literal["never", "ambiguous", "always"]
RESEND_POLICIES: tuple[str, ...] = ("never", "ambiguous", "always")

SENDING = "sending"
SENT = "sent"
FAILED = "failed"
AMBIGUOUS = "ambiguous"

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("sync_name", pa.string(), nullable=False),
        pa.field("partition", pa.string()),
        pa.field("destination", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("occurrence", pa.int64(), nullable=False),
        pa.field("push_id", pa.string(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("body_seq", pa.int64()),
        pa.field("first_row", pa.int64()),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("users", pa.int64(), nullable=False),
        pa.field("events", pa.int64(), nullable=False),
        pa.field("items", pa.int64(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("http_status", pa.int32()),
        pa.field("ambiguous_retries", pa.int32(), nullable=False),
        pa.field("message", pa.string()),
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

RUNS_SCHEMA = pa.schema(
    [
        pa.field("push_id", pa.string(), nullable=False),
        pa.field("run_id", pa.string()),
        pa.field("sync_name", pa.string(), nullable=False),
        pa.field("partition", pa.string()),
        pa.field("entity", pa.string(), nullable=False),
        pa.field("resend", pa.string(), nullable=False),
        pa.field("started_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("finished_at", pa.timestamp("us", tz="UTC")),
        pa.field("status", pa.string(), nullable=False),
        pa.field("bodies_sent", pa.int64(), nullable=False),
        pa.field("bodies_skipped", pa.int64(), nullable=False),
        pa.field("bodies_held", pa.int64(), nullable=False),
        pa.field("bodies_failed", pa.int64(), nullable=False),
        pa.field("bodies_ambiguous", pa.int64(), nullable=False),
        pa.field("rows_sent", pa.int64(), nullable=False),
        pa.field("rows_skipped", pa.int64(), nullable=False),
        pa.field("error", pa.string()),
    ]
)

Decision = Literal["send", "skip", "hold"]



def default_resend(entity: str) -> ResendPolicy:
    """The resend policy of an entity: ``never`` for events, ``ambiguous`` for upserts."""
    return "never" if entity == "events" else "ambiguous"


def check_resend(resend: str) -> ResendPolicy:
    """Return ``resend`` if it names a policy.

    Raises:
        ValueError: Naming the policies otherwise.
    """
    if resend not in RESEND_POLICIES:
        raise ValueError(f"resend must be one of {', '.join(RESEND_POLICIES)}, not {resend!r}")
    return resend  # type: ignore[return-value]


def utc_now() -> dt.datetime:
    """The present, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


class PushLedger:
    """The bodies pushed to MoEngage, kept in two warehouse tables (see the module docstring).

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
        self, sync_name: str, partition: str | None
    ) -> dict[tuple[str, str, int], str]:
        """Bodies of a partition that MoEngage accepted or may have applied.

        Returns:
            ``(destination, sha256, occurrence)`` to ``"sent"`` or ``"ambiguous"`` (an
            ambiguous outcome, or an intent without outcome). Bodies only ever ``failed`` are
            left out: they are sent again like new ones.
        """
        name = self.warehouse.table_name(self.table)
        if not self.warehouse.table_exists(name):
            return {}
        where, params = self.warehouse.where_clause(
            name, {"sync_name": sync_name, "partition": partition}
        )
        # One intent and at most one outcome per body and push: an intent whose push wrote
        # no outcome means the answer never got recorded.
        result = self.warehouse.query(
            f"""
            WITH attempts AS (
                SELECT destination, sha256, occurrence, push_id,
                       bool_or(status = '{SENT}') AS sent,
                       bool_or(status = '{AMBIGUOUS}') AS ambiguous,
                       bool_or(status = '{SENDING}') AS intended,
                       bool_or(status <> '{SENDING}') AS answered
                FROM {name.sql}{where}
                GROUP BY destination, sha256, occurrence, push_id
            )
            SELECT destination, sha256, occurrence, bool_or(sent) AS sent
            FROM attempts
            GROUP BY destination, sha256, occurrence
            HAVING bool_or(sent) OR bool_or(ambiguous OR (intended AND NOT answered))
            """,
            params or None,
        )
        return {
            (destination, sha, int(occurrence)): SENT if sent else AMBIGUOUS
            for destination, sha, occurrence, sent in zip(
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

        Intents are written one request at a time, so this is a plain ``INSERT``: a few
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
        data = pa.RecordBatch.from_pylist([row], schema=RUNS_SCHEMA)
        self.warehouse.replace_rows(self.runs_table, data, where={"push_id": row["push_id"]})

    def session(
        self,
        *,
        sync_name: str,
        partition: str | None,
        entity: str,
        resend: ResendPolicy | None = None,
        client: Any = None,
        dead_letters: Any = None,
        read_only: bool = False,
    ) -> LedgerSession:
        """Start tracking one push of one partition (use as a context manager).

        Args:
            sync_name: The push.
            partition: Its partition key.
            entity: ``users``, ``events`` or ``catalog`` (chooses the default resend policy).
            resend: What to do with bodies MoEngage may already have applied.
            client: The client the push sends through (``session.client`` wraps it).
            dead_letters: Where held-back bodies are reported (a ``DeadLetterWriter``).
            read_only: Consult the ledger but write nothing (dry runs).
        """
        from moengage_pipelines.push.state import LedgerSession

        return LedgerSession(
            self,
            sync_name=sync_name,
            partition=partition,
            entity=entity,
            resend=check_resend(resend or default_resend(entity)),
            client=client,
            dead_letters=dead_letters,
            read_only=read_only,
        )
