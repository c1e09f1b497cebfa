"""``DeadLetter``: one row that was not sent, and why; the columns of the dead-letter table.

The table (``moengage_dead_letters`` by default) has one row per rejected source row:

=============  ==================  ===============================================
column         type                meaning
=============  ==================  ===============================================
sync_name      text                the push it belongs to (e.g. an asset key)
partition      text, nullable      partition key of the run
source         text, nullable      the source read (``Source.describe()``)
run_id         text, nullable      the run that wrote it (Dagster's run id, or the CLI's)
row_key        text, nullable      customer id / item id of the row, if any
row_number     bigint, nullable    position of the row in the source stream
rule           text                rule that failed (e.g. ``banned_customer_id``)
column         text, nullable      source column at fault
message        text                human explanation
row            text, nullable      the whole source row as JSON text
recorded_at    timestamptz         when the letter was written (UTC)
=============  ==================  ===============================================

``column`` and ``row`` are SQL keywords: quote them (``"column"``, ``"row"``) in hand-written
queries. Letters are appended run after run; a push first clears the letters of its own sync,
partition and source (``clear_partition``), so a re-run replaces what that partition of that
sync left, and nothing else: other partitions, other sources, other syncs keep theirs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

__all__ = ["DEAD_LETTER_SCHEMA", "DeadLetter", "row_json", "utc_now"]


DEAD_LETTER_SCHEMA = pa.schema(
    [
        pa.field("sync_name", pa.string(), nullable=False),
        pa.field("partition", pa.string()),
        pa.field("source", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("row_key", pa.string()),
        pa.field("row_number", pa.int64()),
        pa.field("rule", pa.string(), nullable=False),
        pa.field("column", pa.string()),
        pa.field("message", pa.string(), nullable=False),
        pa.field("row", pa.string()),
        pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
_REQUIRED = ("sync_name", "rule", "message")


def utc_now() -> dt.datetime:
    """The present, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A row that was not sent, and why.

    Attributes:
        sync_name: The push it belongs to.
        partition: Partition key of the run, if any.
        row_key: The row's customer id or item id as text, if it has one.
        rule: Rule that failed.
        column: Source column at fault, if one.
        message: Human explanation.
        row: The whole source row as JSON text (see ``row_to_json``).
        row_number: Position of the row in the source stream, if known.
        source: The source the row came from (``Source.describe()``), if known.
        run_id: The run that rejected it, if known.
        recorded_at: When the letter was made (UTC).
    """

    sync_name: str
    partition: str | None
    row_key: str | None
    rule: str
    column: str | None
    message: str
    row: str | None
    row_number: int | None = None
    source: str | None = None
    run_id: str | None = None
    recorded_at: dt.datetime = field(default_factory=utc_now)

    @staticmethod
    def row_to_json(row: Mapping[str, Any]) -> str:
        """Render a source row as JSON text (see :func:`row_json`)."""
        return row_json(row)




def _json_default(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    return str(value)


def row_json(row: Mapping[str, Any]) -> str:
    """A source row as JSON text for a dead letter.

    Bytes that are not UTF-8 are shown with backslash escapes, naive timestamps as UTC, and
    any other object through ``str``, so that every row can be stored whatever it holds.
    """
    return orjson.dumps(
        row,
        default=_json_default,
        option=orjson.OPT_NON_STR_KEYS | orjson.OPT_NAIVE_UTC | orjson.OPT_SERIALIZE_NUMPY,
    ).decode()
