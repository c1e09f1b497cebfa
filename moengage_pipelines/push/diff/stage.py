"""``DiffSync``: the diff stage, between ``prepare`` and ``pack``, in two passes.

1. ``scan``: every validated element of the source is hashed (MD5 of its exact bytes,
   computed by DuckDB over the Arrow column) and its (row number, key, hash) appended to the
   run's DuckDB table (in memory up to a limit, then spilled to a temporary folder); elements
   are not kept, so memory stays flat.
2. ``decide``: one set-based pass over that file: the last occurrence of each key wins (earlier
   ones are ``superseded``), the rest is joined with the confirmed hashes in the state store
   (``RowHashes``) and classified new, changed, retried (handed to delivery before and never
   confirmed) or unchanged (not sent, unless ``full``). The rows to send are marked pending.
3. ``select``: only when there is something to send, the source is read a second time and
   each batch keeps just the rows chosen (looked up by row number).

Bodies are packed from the selected rows in order, so each body's rows are known when it is
packed (``assign``); once delivery reports it delivered (``on_outcome``), those rows become
confirmed. Confirmations are written in batches (``CONFIRM_ROWS``) and when the stage closes: a
run killed in between confirms less than it delivered, and the next run sends those rows again
(an upsert: harmless), never fewer.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.push.diff.store import RowHashes
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.prepare.elements import ValidElements
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome

__all__ = ["CONFIRM_ROWS", "DiffCounts", "DiffSync"]

# The run's file spills to disk beyond this (memory stays flat however many rows).
_LOCAL_MEMORY_LIMIT = "64MB"
# The cap on a DuckDB store's memory while a diff runs in it, its writes included (it spills
# beyond; the hashes are written in slices that fit, see ``RowHashes``).
_STORE_MEMORY_MB = 96
# Lower while the source is scanned: the run's rows only need appending (they spill), and
# the source's batches are in memory then.
_SCAN_MEMORY_MB = 48
# The run's temporary tables: every row scanned, the last of each key, the rows to send.
_RUN = "moengage_diff_run"
_LATEST = "moengage_diff_latest"
_CHOSEN = "moengage_diff_chosen"
_BATCH = "moengage_diff_batch"
# Rows compared with the state store per statement (a PostgreSQL store).
LOOKUP_ROWS = 262_144
# Confirmed rows written per statement, and the longest they wait.
CONFIRM_ROWS = 65_536
CONFIRM_SECONDS = 1.0


@dataclass
class DiffCounts:
    """How a diff sync classified the valid rows of one push.

    Attributes:
        new: Keys MoEngage never confirmed.
        changed: Keys whose element differs from the confirmed one.
        retried: Rows sent before whose delivery was never confirmed (failed, held, or the
            run died), sent again although the source may not have changed.
        unchanged: Rows identical to what MoEngage confirmed: not sent.
        refreshed: Unchanged rows sent anyway (``full``).
        duplicate_keys: Rows whose key appears again later in the run (the last wins).
        superseded: The rows not sent for that reason (the same rows: every occurrence of a
            key but the last).
        confirmed: Rows whose hash became confirmed in this push.
    """

    new: int = 0
    changed: int = 0
    retried: int = 0
    unchanged: int = 0
    refreshed: int = 0
    duplicate_keys: int = 0
    superseded: int = 0
    confirmed: int = 0

    @property
    def to_send(self) -> int:
        """Rows the push sends."""
        return self.new + self.changed + self.retried + self.refreshed


class DiffSync:
    """The diff stage of one push (see the module docstring).

    Args:
        hashes: The sync's confirmed hashes; None classifies every row as new (no state).
        push_id: This push (confirmations from it keep the last occurrence of a key).
        full: Send every row, unchanged ones too, and refresh their hashes.
        key_is_hash: The element hash is the row key (events: identical events are one).
        window_end: Stored with the rows (events, see ``RowHashes.prune``).
    """

    def __init__(
        self,
        hashes: RowHashes | None,
        *,
        push_id: str,
        full: bool = False,
        key_is_hash: bool = False,
        window_end: datetime | None = None,
    ) -> None:
        self.hashes = hashes
        self.push_id = push_id
        self.full = full
        self.key_is_hash = key_is_hash
        self.window_end = window_end
        self.counts = DiffCounts()
        self._folder = Path(tempfile.mkdtemp(prefix="moengage-diff-"))
        workspace = hashes.workspace if hashes is not None else None
        # A DuckDB store keeps the run's tables next to the hashes (temporary tables of its
        # own cursor), so the comparison is one join inside it.
        self._in_store = workspace is not None
        self._restore_limit: str | None = None
        if workspace is not None:
            self._local = workspace
            # The store's buffer pool would otherwise keep up to most of the machine's memory
            # while the run's rows are hashed, compared and confirmed (temporary tables
            # spill); capped until the stage closes.
            self._restore_limit = str(
                workspace.sql("SELECT current_setting('memory_limit')").fetchall()[0][0]
            )
            workspace.execute(f"SET memory_limit = '{_SCAN_MEMORY_MB}MB'")
        else:
            # In memory up to the limit, then spilled to the run's folder.
            self._local = duckdb.connect(":memory:")
            self._local.execute(f"SET memory_limit = '{_LOCAL_MEMORY_LIMIT}'")
            self._local.execute(f"SET temp_directory = '{self._folder / 'spill'}'")
        # Temporary in the store (private to this cursor); plain tables of the own database.
        self._temp = "TEMP " if self._in_store else ""
        self._local.execute(
            f"CREATE {self._temp}TABLE {_RUN} (row_number BIGINT, row_key VARCHAR, "
            "element_hash VARCHAR)"
        )
        self._queue: deque[pa.Table] = deque()
        self._bodies: dict[int, tuple[pa.Table, int]] = {}
        self._confirming: list[pa.Table] = []
        self._confirming_rows = 0
        self._last_flush = time.monotonic()

    def close(self) -> None:
        """Write the confirmations still buffered, drop the run's file, release the store."""
        try:
            self._flush()
        finally:
            if self._in_store:
                for table in (_RUN, _LATEST, _CHOSEN):
                    self._local.execute(f"DROP TABLE IF EXISTS temp.{table}")
                self._uncap()
            else:
                self._local.close()
            shutil.rmtree(self._folder, ignore_errors=True)
            if self.hashes is not None:
                self.hashes.close()

    def __enter__(self) -> DiffSync:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pass one: hash and decide ----------------------------------------------------------

    def scan(self, stream: Iterator[ValidElements]) -> Iterator[ValidElements]:
        """Hash each batch's elements into the run's file; yield the batches on unchanged."""
        for valid in stream:
            keys = valid.keys
            if keys is None or self.key_is_hash:
                keys = pa.nulls(len(valid.elements), pa.string())
            batch = pa.table({
                "row_number": pa.array(
                    np.arange(valid.first_row, valid.first_row + len(valid.elements))
                ),
                "row_key": keys,
                "element": valid.elements,
            })
            self._local.register(_BATCH, batch)
            try:
                self._local.execute(
                    f"INSERT INTO {_RUN} SELECT row_number, coalesce(row_key, md5(element)), "
                    f"md5(element) FROM {_BATCH} WHERE element IS NOT NULL"
                )
            finally:
                self._local.unregister(_BATCH)
            yield valid

    def decide(self) -> DiffCounts:
        """Classify the scanned rows against the state; mark the rows to send pending."""
        local = self._local
        if self._restore_limit is not None:
            local.execute(f"SET memory_limit = '{_STORE_MEMORY_MB}MB'")
        local.execute(
            f"CREATE {self._temp}TABLE {_LATEST} AS SELECT row_number, row_key, element_hash "
            f"FROM {_RUN} QUALIFY row_number() OVER (PARTITION BY row_key "
            "ORDER BY row_number DESC) = 1"
        )
        total = local.sql(f"SELECT count(*) FROM {_RUN}").fetchall()[0][0]
        distinct = local.sql(f"SELECT count(*) FROM {_LATEST}").fetchall()[0][0]
        # Every occurrence but the last of a key is superseded: none of them is sent.
        self.counts.duplicate_keys = self.counts.superseded = int(total - distinct)
        if self._in_store and self.hashes is not None:
            local.execute(
                f"CREATE TEMP TABLE {_CHOSEN} AS {self.hashes.classified(_LATEST)}"
            )
            classes = dict(local.sql(
                f"SELECT class, count(*) FROM {_CHOSEN} GROUP BY class"
            ).fetchall())
            self._count(classes)
            if not self.full:
                local.execute(f"DELETE FROM {_CHOSEN} WHERE class = 'unchanged'")
            if self.counts.to_send:
                self.hashes.mark_pending_from(_CHOSEN, self.window_end)
        else:
            local.execute(
                f"CREATE TABLE {_CHOSEN} (row_number BIGINT, row_key VARCHAR, "
                "element_hash VARCHAR, class VARCHAR)"
            )
            # A reader on its own cursor: the connection writes the chosen rows meanwhile.
            reading = local.cursor()
            try:
                reader = reading.sql(f"SELECT * FROM {_LATEST}").to_arrow_reader(LOOKUP_ROWS)
                for batch in reader:
                    self._classify(pa.Table.from_batches([batch]))
            finally:
                reading.close()
            if self.hashes is not None:
                pending = local.sql(
                    f"SELECT row_key, element_hash, row_number FROM {_CHOSEN}"
                ).to_arrow_reader(LOOKUP_ROWS)
                for batch in pending:
                    self.hashes.mark_pending(pa.Table.from_batches([batch]), self.window_end)
        local.execute(f"DROP TABLE {_LATEST}")
        self._last_flush = time.monotonic()
        return self.counts

    def _uncap(self) -> None:
        if self._restore_limit is not None:
            self._local.execute(f"SET memory_limit = '{self._restore_limit}'")
            self._restore_limit = None

    def _count(self, classes: dict[str, int]) -> None:
        counts = self.counts
        counts.new += classes.get("new", 0)
        counts.changed += classes.get("changed", 0)
        counts.retried += classes.get("retried", 0)
        if self.full:
            counts.refreshed += classes.get("unchanged", 0)
        else:
            counts.unchanged += classes.get("unchanged", 0)

    def _classify(self, rows: pa.Table) -> None:
        # Both sides in row order, so that the store's answer lines up with the rows.
        rows = rows.take(pc.sort_indices(rows.column("row_number")))
        if self.hashes is None:
            nulls = pa.nulls(rows.num_rows, pa.string())
            synced, pending = nulls, nulls
        else:
            found = self.hashes.lookup(
                rows.select(["row_number", "row_key", "element_hash"]).rename_columns(
                    ["position", "row_key", "element_hash"]
                )
            )
            found = found.take(pc.sort_indices(found.column("position")))
            synced, pending = found.column("synced"), found.column("pending")
        current = rows.column("element_hash")
        same = pc.fill_null(pc.equal(synced, current), False).to_numpy(zero_copy_only=False)
        retried = pc.fill_null(pc.equal(pending, current), False).to_numpy(zero_copy_only=False)
        retried &= ~same
        new = synced.is_null().to_numpy(zero_copy_only=False) & ~retried
        changed = ~same & ~retried & ~new
        self._count({"new": int(new.sum()), "changed": int(changed.sum()),
                     "retried": int(retried.sum()), "unchanged": int(same.sum())})
        labels = np.where(same, "unchanged", np.where(retried, "retried",
                                                      np.where(new, "new", "changed")))
        keep = np.ones(len(same), dtype=bool) if self.full else ~same
        chosen = rows.append_column("class", pa.array(labels)).filter(pa.array(keep))
        if chosen.num_rows:
            self._local.register(_BATCH, chosen)
            try:
                self._local.execute(f"INSERT INTO {_CHOSEN} SELECT * FROM {_BATCH}")
            finally:
                self._local.unregister(_BATCH)

    def unchanged_keys(self) -> Iterator[list[str]]:
        """Keys of the rows not sent because they are unchanged, a batch at a time."""
        reader = self._local.sql(
            f"SELECT row_key FROM {_RUN} ANTI JOIN {_CHOSEN} USING (row_number)"
        ).to_arrow_reader(LOOKUP_ROWS)
        for batch in reader:
            yield batch.column(0).to_pylist()

    # -- pass two: select ---------------------------------------------------------------------

    def select(self, valid: ValidElements) -> ValidElements:
        """The batch with only the chosen rows left (the second read of the source)."""
        count = len(valid.elements)
        last = valid.first_row + count
        chosen = self._local.sql(
            f"SELECT row_number FROM {_CHOSEN} WHERE row_number >= {int(valid.first_row)} "
            f"AND row_number < {int(last)} ORDER BY row_number"
        ).to_arrow_table()
        send = np.zeros(count, dtype=bool)
        send[chosen.column(0).to_numpy() - valid.first_row] = True
        send &= valid.elements.is_valid().to_numpy(zero_copy_only=False)
        positions = np.flatnonzero(send)
        if len(positions):
            picked = valid.elements.take(pa.array(positions))
            keys = (
                valid.keys.take(pa.array(positions))
                if valid.keys is not None and not self.key_is_hash else None
            )
            self._local.register(_BATCH, pa.table({
                "row_number": pa.array(positions + valid.first_row), "element": picked,
                "row_key": keys if keys is not None else pa.nulls(len(positions), pa.string()),
            }))
            try:
                # The hash of what is sent now: it is what a confirmation records.
                sent = self._local.sql(
                    "SELECT coalesce(row_key, md5(element)) AS row_key, md5(element) AS "
                    f"element_hash, row_number FROM {_BATCH} ORDER BY row_number"
                ).to_arrow_table()
            finally:
                self._local.unregister(_BATCH)
            self._queue.append(sent)
        return valid.without(~send)

    # -- bodies ----------------------------------------------------------------------------

    def assign(self, body: Body) -> Body:
        """Note which rows ``body`` carries: the next ``body.elements`` rows selected."""
        parts, needed = [], body.elements
        while needed:
            head = self._queue[0]
            if head.num_rows <= needed:
                parts.append(self._queue.popleft())
                needed -= head.num_rows
            else:
                parts.append(head.slice(0, needed))
                self._queue[0] = head.slice(needed)
                needed = 0
        rows = pa.concat_tables(parts) if len(parts) != 1 else parts[0]
        self._bodies[body.seq] = (rows, body.elements)
        return body

    def on_outcome(self, outcome: BodyOutcome) -> None:
        """Confirm the rows of a delivered body (or piece); forget finished bodies."""
        body = outcome.body
        entry = self._bodies.get(body.seq)
        if entry is None:
            return
        rows, remaining = entry
        start, length = _piece_range(rows.num_rows, body.piece)
        delivered = outcome.outcome in (Outcome.SENT, Outcome.SKIPPED) and not outcome.refused
        if delivered and self.hashes is not None:
            self._confirming.append(rows.slice(start, length))
            self._confirming_rows += length
            self.counts.confirmed += length
            waited = time.monotonic() - self._last_flush
            if self._confirming_rows >= CONFIRM_ROWS or waited >= CONFIRM_SECONDS:
                self._flush()
        remaining -= length
        if remaining <= 0:
            del self._bodies[body.seq]
        else:
            self._bodies[body.seq] = (rows, remaining)

    def _flush(self) -> None:
        if self._confirming and self.hashes is not None:
            self.hashes.confirm(
                pa.concat_tables(self._confirming), self.push_id, self.window_end
            )
        self._confirming, self._confirming_rows = [], 0
        self._last_flush = time.monotonic()


def _piece_range(count: int, piece: str) -> tuple[int, int]:
    """Which rows of a body a piece holds: each split keeps the first half, then the rest."""
    start, length = 0, count
    for half in piece:
        middle = length // 2
        if half == "0":
            length = middle
        else:
            start, length = start + middle, length - middle
    return start, length
