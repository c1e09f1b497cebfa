"""``DeliveryResult``: the totals of one delivery, counted from the bodies' outcomes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome

__all__ = ["DeliveryResult", "FailedBody"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FailedBody:
    """A body (or a piece of one after splitting) MoEngage did not accept.

    Attributes:
        first_row: Index of its first source row.
        elements: Elements (or items) in it; they are rows ``first_row`` to
            ``first_row + elements - 1`` when the packer kept one element per row.
        status: HTTP status, or None when no response came (connection failures).
        message: MoEngage's message or the failure's description.
        ambiguous: The answer was lost after sending: MoEngage may have applied the body.
        seq: Position of the body in the push's stream.
        piece: Which piece of the body (``""`` for the whole body).
    """

    first_row: int
    elements: int
    status: int | None
    message: str
    ambiguous: bool = False
    seq: int = 0
    piece: str = ""


@dataclass
class DeliveryResult:
    """Totals of one delivery; every body (or piece) is counted once, by its outcome.

    Attributes:
        bodies_sent: Bodies MoEngage accepted (halves of split bodies count one each).
        bytes_sent: Their bytes.
        users_sent: Customer elements in them.
        events_sent: Event actions in them.
        items_sent: Catalog items in them (MoEngage may still call some invalid).
        bodies_skipped: Bodies not sent because they were delivered before.
        rows_skipped: Elements in them.
        bodies_held: Bodies held back: an earlier answer was lost and the resend policy keeps
            such bodies back.
        rows_held: Elements in them.
        held: Those bodies, for the report and dead letters.
        retries: Attempts repeated after a 429, 5xx or transport failure.
        http_429: 429 answers.
        splits_413: Bodies split after a 413.
        splits_budget: Bodies split because they outweighed a rate window.
        ambiguous_retries: Retries of attempts MoEngage may already have applied.
        ambiguous_rows: First rows of bodies that had such a retry (possible duplicates).
        budget_wait_seconds: Time workers spent waiting for the rate budget.
        failures: Bodies not accepted, in completion order.
        stopped: True when delivery stopped early (``fail_fast`` or a failure that would
            repeat for every body).
        stop_reason: Why it stopped.
        stop_status: HTTP status of the failure that stopped it (None without an answer).
        unsent_bodies: Bodies never sent because delivery had stopped (see
            :func:`~moengage_pipelines.push.send.delivery.count_unsent`).
        unsent_rows: Elements in them.
        first_unsent_row: The first source row of those bodies.
    """

    bodies_sent: int = 0
    bytes_sent: int = 0
    users_sent: int = 0
    events_sent: int = 0
    items_sent: int = 0
    bodies_skipped: int = 0
    rows_skipped: int = 0
    bodies_held: int = 0
    rows_held: int = 0
    held: list[Body] = field(default_factory=list)
    retries: int = 0
    http_429: int = 0
    splits_413: int = 0
    splits_budget: int = 0
    ambiguous_retries: int = 0
    ambiguous_rows: list[int] = field(default_factory=list)
    budget_wait_seconds: float = 0.0
    failures: list[FailedBody] = field(default_factory=list)
    stopped: bool = False
    stop_reason: str = ""
    stop_status: int | None = None
    unsent_bodies: int = 0
    unsent_rows: int = 0
    first_unsent_row: int | None = None

    @property
    def ok(self) -> bool:
        """True when every body was delivered (now or before) and delivery ran to the end."""
        return not self.failures and not self.held and not self.stopped

    @property
    def failed_elements(self) -> int:
        """Elements in failed bodies."""
        return sum(failure.elements for failure in self.failures)

    @property
    def ambiguous_failures(self) -> list[FailedBody]:
        """Failed bodies whose answer was lost after sending: MoEngage may have applied them."""
        return [failure for failure in self.failures if failure.ambiguous]

    def count_unsent(self, body: Body) -> None:
        """Count a body that was never sent because delivery had stopped."""
        self.unsent_bodies += 1
        self.unsent_rows += body.elements
        if self.first_unsent_row is None:
            self.first_unsent_row = body.first_row

    def count(self, outcome: BodyOutcome) -> None:
        """Count one final outcome."""
        body = outcome.body
        if outcome.outcome is Outcome.SENT:
            self.bodies_sent += 1
            self.bytes_sent += body.size
            self.users_sent += body.users
            self.events_sent += body.events
            self.items_sent += body.items
        elif outcome.outcome is Outcome.SKIPPED:
            self.bodies_skipped += 1
            self.rows_skipped += body.elements
        elif outcome.outcome is Outcome.HELD:
            self.bodies_held += 1
            self.rows_held += body.elements
            self.held.append(body)
        else:
            failure = FailedBody(
                body.first_row, body.elements, outcome.status, outcome.message,
                outcome.ambiguous, body.seq, body.piece,
            )
            self.failures.append(failure)
            logger.warning(
                "body at row %d (%d elements) failed: %s %s",
                failure.first_row, failure.elements, failure.status or "", failure.message,
            )

    def add_trace(self, body: Body, trace: RequestTrace) -> None:
        """Count the attempts of one request."""
        self.retries += trace.retries
        self.http_429 += trace.http_429
        self.ambiguous_retries += trace.ambiguous_retries
        self.budget_wait_seconds += trace.budget_wait_seconds
        if trace.ambiguous_retries and body.first_row not in self.ambiguous_rows:
            self.ambiguous_rows.append(body.first_row)

    def as_dict(self) -> dict[str, Any]:
        """Counters as a flat dict (for reports and metadata)."""
        return {
            "bodies_sent": self.bodies_sent,
            "bytes_sent": self.bytes_sent,
            "users_sent": self.users_sent,
            "events_sent": self.events_sent,
            "items_sent": self.items_sent,
            "bodies_skipped": self.bodies_skipped,
            "rows_skipped": self.rows_skipped,
            "bodies_held": self.bodies_held,
            "rows_held": self.rows_held,
            "retries": self.retries,
            "http_429": self.http_429,
            "splits_413": self.splits_413,
            "splits_budget": self.splits_budget,
            "ambiguous_retries": self.ambiguous_retries,
            "budget_wait_seconds": round(self.budget_wait_seconds, 3),
            "failed_bodies": len(self.failures),
            "failed_elements": self.failed_elements,
            "unsent_bodies": self.unsent_bodies,
            "unsent_rows": self.unsent_rows,
            "stopped": self.stopped,
        }
