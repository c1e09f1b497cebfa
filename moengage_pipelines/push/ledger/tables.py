"""The delivery state's two tables, created on first write in the state warehouse.

``moengage_push_ledger``: one row per body when it goes out (``sending``) and one when its
answer comes (``sent``, ``failed`` or ``ambiguous``):

=================  ===========  ====================================================
column             type         meaning
=================  ===========  ====================================================
sync_name          text         the push (e.g. an asset key)
partition          text, null   partition key of the run
destination        text         where the body went: API base URL, workspace id and
                                entity (plus ``/catalog/<id>``); never key material
body_seq           bigint       position of the body in the push's stream of bodies
piece              text         ``""`` for the whole body, else the halves it was split
                                into after a 413 (``0``, ``1``, ``01``, ...)
sha256             text         SHA-256 of the exact body bytes (hex)
push_id            text         the push that wrote the row (``moengage_push_runs``)
run_id             text, null   the orchestrator's run id, if given
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

``moengage_push_runs``: one row per push of a partition (``push_id``): when it started and
finished, its status (``running``, ``succeeded``, ``incomplete``, ``error``; a push that
stays ``running`` died) and its counters.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["AMBIGUOUS", "FAILED", "LEDGER_SCHEMA", "RUNS_SCHEMA", "SENDING", "SENT"]

SENDING = "sending"
SENT = "sent"
FAILED = "failed"
AMBIGUOUS = "ambiguous"

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("sync_name", pa.string(), nullable=False),
        pa.field("partition", pa.string()),
        pa.field("destination", pa.string(), nullable=False),
        pa.field("body_seq", pa.int64(), nullable=False),
        pa.field("piece", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("push_id", pa.string(), nullable=False),
        pa.field("run_id", pa.string()),
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
        pa.field("destination", pa.string()),
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
