"""Push state: a ledger of the request bodies sent, so retries and re-runs do not send twice.

MoEngage does not deduplicate events: a body sent twice creates its events twice, and bulk
import answers 200 whatever it keeps. A push given a ``PushLedger`` writes every request body it
sends to a table of the results warehouse (``moengage_push_ledger``):

* just before the request goes out, an intent (status ``sending``), written at once;
* when the answer arrives, the outcome: ``sent`` (accepted), ``failed`` (refused, or never
  sent, so nothing was applied) or ``ambiguous`` (the answer was lost after MoEngage may have
  applied the body). Outcomes are written in small batches with the next intent.

A body is identified by its sync, partition, destination (workspace, plus the catalog for
catalog items) and the SHA-256 of its exact bytes, with an occurrence number telling identical
bodies of one partition apart. Packing is deterministic: the same rows in the same order under
the same body limit give the same bodies, so on the next run of a partition

* a body already ``sent`` is skipped (``PushReport.bodies_skipped``);
* a body ``failed``, or never tried, is sent;
* a body ``ambiguous``, or with an intent but no outcome (the process died in between), is
  resent or held back by the resend policy:

  - ``never``: held back (``PushReport.bodies_held`` and a dead letter), and the client does
    not retry a request that may already have been applied either: at most once. The default
    for events, which MoEngage would duplicate.
  - ``ambiguous``: resent: at least once. The default for users and catalog items, whose
    upserts are idempotent.
  - ``always``: every body is resent, sent ones included (a forced re-push).

Rows changed inside a partition change the bodies from the first change on: those are sent
(for events, any unchanged rows packed into them again as well). Read sources in a stable
order (``order_by`` on SQL sources; Parquet files are read in file order) and partition events
by a load timestamp, so that a partition's rows do not move once sent. Two runs of the same
partition must not overlap.

The tables are described in ``moengage_pipelines.push.ledger``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson

from moengage_pipelines.push.body import Body
from moengage_pipelines.push.dead_letters import DeadLetter
from moengage_pipelines.push.ledger import (
    AMBIGUOUS,
    FAILED,
    RESEND_POLICIES,
    SENDING,
    SENT,
    PushLedger,
    ResendPolicy,
    default_resend,
    utc_now,
)
from moengage_pipelines.push.ledger_client import LedgeredClient, failure_message, failure_status
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.warehouse import WarehouseError

if TYPE_CHECKING:
    from moengage_pipelines.api.counters import RequestTrace

__all__ = [
    "RESEND_POLICIES",
    "LedgerSession",
    "PushLedger",
    "ResendPolicy",
    "Tracker",
    "default_resend",
    "track_push",
]

logger = logging.getLogger(__name__)

# The dead-letter rule of bodies held back by ``resend="never"``.
HELD_RULE = "ambiguous_not_resent"

# Outcomes wait for the next intent (written at once); this caps how many wait.
_FLUSH_ROWS = 256
# What a skipped request "answers": enough for delivery and catalog pushes to go on.
_SKIPPED_ANSWER: dict[str, Any] = {"status": "success", "message": {}}


Decision = Literal["send", "skip", "hold"]


@dataclass(slots=True)
class _BodyInfo:
    """What the ledger stores about one body (one request)."""

    destination: str
    sha256: str
    occurrence: int
    size: int
    rows: int
    users: int = 0
    events: int = 0
    items: int = 0
    seq: int | None = None
    first_row: int | None = None
    payload: bytes | None = field(default=None, repr=False)


@dataclass
class _Counts:
    bodies_sent: int = 0
    rows_sent: int = 0
    bodies_failed: int = 0
    bodies_ambiguous: int = 0
    bodies_skipped: int = 0
    rows_skipped: int = 0
    bodies_held: int = 0
    rows_held: int = 0
    # Requests answered by the ledger instead of MoEngage (delivery counted them as sent).
    answered_bodies: int = 0
    answered_bytes: int = 0
    answered_users: int = 0
    answered_events: int = 0
    answered_items: int = 0


class LedgerSession:
    """Tracks one push of one partition; made by :meth:`PushLedger.session`.

    Use ``filter`` on the packed bodies, send through ``client``, then ``apply`` the counts to
    the report. Leaving the ``with`` block writes what is pending and the push's row.
    """

    def __init__(
        self,
        ledger: PushLedger,
        *,
        sync_name: str,
        partition: str | None,
        entity: str,
        resend: ResendPolicy,
        client: Any,
        dead_letters: Any,
        read_only: bool,
    ) -> None:
        self.ledger = ledger
        self.sync_name = sync_name
        self.partition = partition
        self.entity = entity
        self.resend = resend
        self.read_only = read_only
        self.push_id = uuid.uuid4().hex
        self.counts = _Counts()
        self._dead_letters = dead_letters
        self.workspace = str(getattr(getattr(client, "settings", None), "workspace_id", "") or "")
        self._known: dict[tuple[str, str, int], str] = {}
        self._occurrences: Counter[tuple[str, str]] = Counter()
        self._registered: dict[int, _BodyInfo] = {}
        self._held: list[_BodyInfo] = []
        self._seq = 0
        self._lock = threading.Lock()
        self._pending: list[dict[str, Any]] = []
        self._write_lock = threading.Lock()
        self._deferred: tuple[_BodyInfo, RequestTrace] | None = None
        self._started = utc_now()
        self.client = client if read_only or client is None else LedgeredClient(self, client)

    def __repr__(self) -> str:
        return (
            f"LedgerSession(sync_name={self.sync_name!r}, partition={self.partition!r}, "
            f"resend={self.resend!r})"
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LedgerSession:
        known = self.ledger.statuses(self.sync_name, self.partition)
        if not self.workspace:
            # No client (a dry run): the workspace is unknown, so what any workspace got counts.
            merged: dict[tuple[str, str, int], str] = {}
            for (_, digest, occurrence), status in known.items():
                if merged.get(("", digest, occurrence)) != SENT:
                    merged["", digest, occurrence] = status
            known = merged
        self._known = known
        if not self.read_only:
            self.ledger.write_run(self._run_row("running", None))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._registered.clear()
        if self.read_only:
            return
        deferred = self.take_deferred()
        if deferred is not None:
            # A catalog body whose existing items were never updated: send it again next time.
            self.record(deferred[0], FAILED, deferred[1], "existing items were not updated")
        failure = exc
        try:
            self._flush()
            self._write_held_letters()
        except BaseException as problem:
            failure = failure or problem
            raise
        finally:
            counts = self.counts
            if failure is not None:
                status, error = "error", f"{type(failure).__name__}: {failure}"[:2000]
            elif counts.bodies_failed or counts.bodies_ambiguous or counts.bodies_held:
                status, error = "incomplete", None
            else:
                status, error = "succeeded", None
            try:
                self.ledger.write_run(self._run_row(status, error))
            except WarehouseError:
                if failure is None:
                    raise
                logger.exception("could not record the end of push %s", self.push_id)

    def _run_row(self, status: str, error: str | None) -> dict[str, Any]:
        counts = self.counts
        return {
            "push_id": self.push_id,
            "run_id": self.ledger.run_id,
            "sync_name": self.sync_name,
            "partition": self.partition,
            "entity": self.entity,
            "resend": self.resend,
            "started_at": self._started,
            "finished_at": None if status == "running" else utc_now(),
            "status": status,
            "bodies_sent": counts.bodies_sent,
            "bodies_skipped": counts.bodies_skipped,
            "bodies_held": counts.bodies_held,
            "bodies_failed": counts.bodies_failed,
            "bodies_ambiguous": counts.bodies_ambiguous,
            "rows_sent": counts.rows_sent,
            "rows_skipped": counts.rows_skipped,
            "error": error,
        }

    # -- the packed stream -------------------------------------------------------------------

    def filter(self, bodies: Iterable[Body]) -> Iterator[Body]:
        """Yield the bodies to send; skip those sent before, hold back those the policy keeps."""
        destination = self.workspace
        for body in bodies:
            info = self.describe(
                body.payload, destination, numbered=True, first_row=body.first_row,
                users=body.users, events=body.events, items=body.items,
            )
            decision = self.decide(info)
            if decision == "send":
                if not self.read_only:
                    with self._lock:
                        self._registered[id(body.payload)] = info
                yield body
            else:
                self._count_unsent(info, decision)

    def apply(self, report: PushReport) -> None:
        """Add the skipped and held counts to a report and take out requests not really sent."""
        counts = self.counts
        report.bodies_skipped += counts.bodies_skipped
        report.rows_skipped += counts.rows_skipped
        report.bodies_held += counts.bodies_held
        report.rows_held += counts.rows_held
        report.bodies -= counts.answered_bodies
        report.bytes_sent -= counts.answered_bytes
        report.users_sent -= counts.answered_users
        report.events_sent -= counts.answered_events
        report.items_sent -= counts.answered_items

    # -- bodies ------------------------------------------------------------------------------

    def describe(
        self, payload: bytes, destination: str, *, numbered: bool = False,
        first_row: int | None = None, users: int = 0, events: int = 0, items: int = 0,
    ) -> _BodyInfo:
        """Identify a body; ``numbered`` bodies take the next place in the partition's stream."""
        digest = hashlib.sha256(payload).hexdigest()
        with self._lock:
            occurrence = self._occurrences[(destination, digest)]
            self._occurrences[(destination, digest)] += 1
            seq = None
            if numbered:
                seq, self._seq = self._seq, self._seq + 1
        return _BodyInfo(
            destination=destination, sha256=digest, occurrence=occurrence, size=len(payload),
            rows=users + events + items, users=users, events=events, items=items, seq=seq,
            first_row=first_row, payload=payload,
        )

    def decide(self, info: _BodyInfo) -> Decision:
        """Send, skip (sent before) or hold back (ambiguous before, under ``never``)."""
        if self.resend == "always":
            return "send"
        known = self._known.get((info.destination, info.sha256, info.occurrence))
        if known == SENT:
            return "skip"
        if known == AMBIGUOUS and self.resend == "never":
            return "hold"
        return "send"

    def _count_unsent(self, info: _BodyInfo, decision: Decision) -> None:
        with self._lock:
            if decision == "skip":
                self.counts.bodies_skipped += 1
                self.counts.rows_skipped += info.rows
            else:
                self.counts.bodies_held += 1
                self.counts.rows_held += info.rows
                info.payload = None
                self._held.append(info)

    def claim(self, payload: bytes) -> _BodyInfo | None:
        """The info ``filter`` registered for this body, if it came through ``filter``."""
        with self._lock:
            info = self._registered.pop(id(payload), None)
        if info is not None and info.payload is payload:
            info.payload = None
            return info
        return None

    def answer_from_ledger(self, info: _BodyInfo, decision: Decision) -> dict[str, Any]:
        """Count a request the ledger answers (a piece sent before, or one held back)."""
        self._count_unsent(info, decision)
        with self._lock:
            counts = self.counts
            counts.answered_bodies += 1
            counts.answered_bytes += info.size
            counts.answered_users += info.users
            counts.answered_events += info.events
            counts.answered_items += info.items
        return dict(_SKIPPED_ANSWER)

    # -- sending -----------------------------------------------------------------------------

    def send(
        self,
        info: _BodyInfo,
        call: Callable[[RequestTrace], dict[str, Any]],
        trace: RequestTrace | None,
        *,
        judge: Callable[[dict[str, Any]], tuple[str | None, str | None]] | None = None,
    ) -> dict[str, Any]:
        """Record an intent, make the request, record its outcome.

        ``judge`` turns an answer into ``(status, message)``; a None status defers the
        outcome (a catalog body waiting for its update).
        """
        if trace is None:
            from moengage_pipelines.api.counters import RequestTrace

            trace = RequestTrace()
        self._write([self._row(info, SENDING, trace, None)], durable=True)
        try:
            answer = call(trace)
        except BaseException as exc:
            status = failure_status(exc)
            if status is not None:
                self.record(info, status, trace, failure_message(exc))
            raise
        status, message = judge(answer) if judge is not None else (SENT, None)
        if status is None:
            with self._lock:
                self._deferred = (info, trace)
        else:
            self.record(info, status, trace, message)
        return answer

    def take_deferred(self) -> tuple[_BodyInfo, RequestTrace] | None:
        """The catalog body waiting for its update's answer, if any (and forget it)."""
        with self._lock:
            deferred, self._deferred = self._deferred, None
        return deferred

    def record(
        self, info: _BodyInfo, status: str, trace: RequestTrace, message: str | None
    ) -> None:
        """Record the outcome of a body's request."""
        with self._lock:
            counts = self.counts
            if status == SENT:
                counts.bodies_sent += 1
                counts.rows_sent += info.rows
            elif status == AMBIGUOUS:
                counts.bodies_ambiguous += 1
            else:
                counts.bodies_failed += 1
        self._write([self._row(info, status, trace, message)])

    def _row(
        self, info: _BodyInfo, status: str, trace: RequestTrace, message: str | None
    ) -> dict[str, Any]:
        return {
            "sync_name": self.sync_name,
            "partition": self.partition,
            "destination": info.destination,
            "sha256": info.sha256,
            "occurrence": info.occurrence,
            "push_id": self.push_id,
            "run_id": self.ledger.run_id,
            "body_seq": info.seq,
            "first_row": info.first_row,
            "rows": info.rows,
            "users": info.users,
            "events": info.events,
            "items": info.items,
            "bytes": info.size,
            "status": status,
            "http_status": trace.status,
            "ambiguous_retries": trace.ambiguous_retries,
            "message": message,
            "recorded_at": utc_now(),
        }

    def _write(self, rows: list[dict[str, Any]], *, durable: bool = False) -> None:
        # One writer at a time keeps rows in order; an intent must be stored before its request
        # goes out, so it is written at once together with the outcomes waiting.
        # When the write fails, the outcomes stay pending and an intent is dropped with its
        # request, which is then not made.
        with self._write_lock:
            if durable:
                self.ledger.append([*self._pending, *rows])
                self._pending = []
                return
            self._pending.extend(rows)
            if len(self._pending) >= _FLUSH_ROWS:
                self._flush_locked()

    def _flush(self) -> None:
        with self._write_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self.ledger.append(self._pending)
        self._pending = []

    def _write_held_letters(self) -> None:
        write = getattr(self._dead_letters, "write", None)
        if write is None or not self._held:
            return
        letters = [
            DeadLetter(
                sync_name=self.sync_name,
                partition=self.partition,
                row_key=None,
                rule=HELD_RULE,
                column=None,
                message=(
                    f"a body of {info.rows} elements{_starting_at(info)} may already have been "
                    "applied by MoEngage (its answer was lost); it was not sent again, to "
                    "avoid duplicates. Push the partition with resend='ambiguous' to send it."
                ),
                row=orjson.dumps(
                    {"first_row": info.first_row, "elements": info.rows, "sha256": info.sha256,
                     "body_seq": info.seq}
                ).decode(),
                row_number=info.first_row,
            )
            for info in self._held
        ]
        write(letters)



def _starting_at(info: _BodyInfo) -> str:
    return "" if info.first_row is None else f" starting at row {info.first_row}"


class Tracker(Protocol):
    """What a push needs from ledger tracking (a ``LedgerSession`` or nothing)."""

    client: Any

    def filter(self, bodies: Iterable[Body]) -> Iterator[Body]:
        """Bodies still to send."""
        ...

    def apply(self, report: PushReport) -> None:
        """Add the tracking counts to the report."""
        ...


class _Untracked:
    """No ledger: every body is sent, nothing is recorded."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def filter(self, bodies: Iterable[Body]) -> Iterator[Body]:
        yield from bodies

    def apply(self, report: PushReport) -> None:
        return None


@contextmanager
def track_push(
    ledger: PushLedger | None,
    *,
    sync_name: str,
    partition: str | None,
    entity: str,
    resend: ResendPolicy | None,
    client: Any,
    dead_letters: Any,
    dry_run: bool,
) -> Iterator[Tracker]:
    """A ledger session for one push, or a pass-through without a ledger.

    Dry runs read the ledger (their report shows what would be skipped) but never write to it.
    """
    if ledger is None:
        yield _Untracked(client)
        return
    session = ledger.session(
        sync_name=sync_name, partition=partition, entity=entity, resend=resend, client=client,
        dead_letters=dead_letters, read_only=dry_run,
    )
    with session:
        yield session
