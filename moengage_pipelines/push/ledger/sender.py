"""``LedgerSender``: the delivery state as a stage of its own, wrapped around a sender.

For each body it receives, it looks the body up (its stream position, piece and SHA-256) in
what earlier pushes of the partition recorded, and either

* returns ``skipped`` (MoEngage accepted it before) or ``held`` (it may have been applied
  before and the policy is ``never``) without sending, or
* sends it through the wrapped sender, recording it in flight (``sending``) when the request
  actually goes out, i.e. once the rate budget admitted it, and its outcome when the answer
  comes: ``sent``, ``failed`` (refused, or never applied) or ``ambiguous`` (the answer was
  lost after MoEngage may have applied it).

A body that never went out leaves no row, so the next push sends it like a new one; one that
went out without an outcome recorded (the process died) counts as ambiguous.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.push.dead_letters.letter import utc_now
from moengage_pipelines.push.ledger.policy import Decision, Delivery, ResendPolicy, decide
from moengage_pipelines.push.ledger.store import BodyKey, PushLedger
from moengage_pipelines.push.ledger.tables import AMBIGUOUS, FAILED, SENDING, SENT
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome
from moengage_pipelines.push.send.sender import BodySender

__all__ = ["LedgerCounts", "LedgerScope", "LedgerSender"]


@dataclass(frozen=True, slots=True)
class LedgerScope:
    """Which push the recorded rows belong to.

    Attributes:
        sync_name: The push.
        partition: Its partition key.
        destination: Where its bodies go (see ``destination_of``).
        push_id: This push's id.
        run_id: The orchestrator's run id, if any.
    """

    sync_name: str
    partition: str | None
    destination: str
    push_id: str
    run_id: str | None


@dataclass
class LedgerCounts:
    """Bodies recorded per status by one push (for its row in ``moengage_push_runs``)."""

    bodies_sent: int = 0
    rows_sent: int = 0
    bodies_failed: int = 0
    bodies_ambiguous: int = 0
    bodies_skipped: int = 0
    rows_skipped: int = 0
    bodies_held: int = 0


class LedgerSender:
    """Skips or holds bodies the state knows, records the others as they go out and come back.

    Args:
        inner: The sender that talks to MoEngage (or, in a dry run, one that only counts).
        ledger: Where rows are written; None in a dry run (consult, never write).
        known: What earlier pushes recorded (``PushLedger.statuses``).
        resend: The resend policy.
        scope: Which push the rows belong to.
    """

    def __init__(
        self,
        inner: BodySender,
        *,
        ledger: PushLedger | None,
        known: dict[BodyKey, Delivery],
        resend: ResendPolicy,
        scope: LedgerScope,
    ) -> None:
        self.inner = inner
        self.ledger = ledger
        self.known = known
        self.resend = resend
        self.scope = scope
        self.counts = LedgerCounts()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"LedgerSender({self.inner!r}, resend={self.resend!r})"

    def send(
        self,
        body: Body,
        trace: RequestTrace,
        *,
        on_dispatch: Callable[[], None] | None = None,
    ) -> BodyOutcome:
        """Skip, hold, or send and record one body (see the module docstring)."""
        key: BodyKey = (body.seq, body.piece, hashlib.sha256(body.payload).hexdigest())
        decision = decide(self.resend, self.known.get(key))
        if decision is Decision.SKIP:
            self._count(skipped=body)
            return BodyOutcome(body, Outcome.SKIPPED)
        if decision is Decision.HOLD:
            self._count(held=body)
            return BodyOutcome(
                body, Outcome.HELD,
                message=(
                    "an earlier push sent this body and its answer was lost, so MoEngage may "
                    "have applied it; not sent again under resend='never'"
                ),
            )
        dispatched = False

        def dispatch() -> None:
            nonlocal dispatched
            if not dispatched:
                # Written before the request goes out: a crash from here on leaves the body
                # ambiguous, never silently lost.
                self._write(key, body, SENDING, trace, None)
                dispatched = True
            if on_dispatch is not None:
                on_dispatch()

        outcome = self.inner.send(body, trace, on_dispatch=dispatch)
        if dispatched:
            status, message = _recorded_status(outcome, trace)
            self._write(key, body, status, trace, message)
        return outcome

    def _count(self, *, skipped: Body | None = None, held: Body | None = None) -> None:
        with self._lock:
            if skipped is not None:
                self.counts.bodies_skipped += 1
                self.counts.rows_skipped += skipped.elements
            if held is not None:
                self.counts.bodies_held += 1

    def _write(
        self, key: BodyKey, body: Body, status: str, trace: RequestTrace, message: str | None
    ) -> None:
        with self._lock:
            counts = self.counts
            if status == SENT:
                counts.bodies_sent += 1
                counts.rows_sent += body.elements
            elif status == AMBIGUOUS:
                counts.bodies_ambiguous += 1
            elif status == FAILED:
                counts.bodies_failed += 1
            if self.ledger is not None:
                # One writer at a time: rows stay in order and the connection is not shared.
                self.ledger.append([self._row(key, body, status, trace, message)])

    def _row(
        self, key: BodyKey, body: Body, status: str, trace: RequestTrace, message: str | None
    ) -> dict[str, Any]:
        scope = self.scope
        return {
            "sync_name": scope.sync_name,
            "partition": scope.partition,
            "destination": scope.destination,
            "body_seq": key[0],
            "piece": key[1],
            "sha256": key[2],
            "push_id": scope.push_id,
            "run_id": scope.run_id,
            "first_row": body.first_row,
            "rows": body.elements,
            "users": body.users,
            "events": body.events,
            "items": body.items,
            "bytes": body.size,
            "status": status,
            "http_status": trace.status,
            "ambiguous_retries": trace.ambiguous_retries,
            "message": None if message is None else message[:2000],
            "recorded_at": utc_now(),
        }


def _recorded_status(outcome: BodyOutcome, trace: RequestTrace) -> tuple[str, str | None]:
    """The ledger status of a body that went out, and why when it is not ``sent``."""
    if outcome.outcome is Outcome.SENT:
        if outcome.refused:
            # Items MoEngage refused come back as dead letters on every run: send it again.
            return FAILED, f"MoEngage refused {outcome.refused} of its elements"
        return SENT, None
    if outcome.outcome is Outcome.TOO_LARGE:
        return FAILED, f"too large, split and sent in pieces: {outcome.message}"
    # A retry after an attempt MoEngage may have applied makes any failure ambiguous.
    if outcome.ambiguous or trace.ambiguous_retries:
        return AMBIGUOUS, outcome.message
    return FAILED, outcome.message
