"""What became of one body: the explicit outcomes delivery and the report count."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from moengage_pipelines.push.pack.body import Body

__all__ = ["BodyOutcome", "Outcome"]


class Outcome(StrEnum):
    """How a body ended.

    * ``sent``: MoEngage answered 2xx with a success answer.
    * ``skipped``: not sent, because the delivery state shows it delivered before.
    * ``held``: not sent, because an earlier answer was lost after MoEngage may have applied
      it and the resend policy keeps such bodies back (``resend="never"``).
    * ``failed``: refused, never sent, or its answer lost after sending (``ambiguous``).
    * ``too_large``: refused as too large for the endpoint or for a rate window; delivery
      splits it and sends the halves instead.
    """

    SENT = "sent"
    SKIPPED = "skipped"
    HELD = "held"
    FAILED = "failed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class BodyOutcome:
    """The outcome of one body (or one piece of a split body).

    Attributes:
        body: The body.
        outcome: What happened to it.
        status: HTTP status of the last answer, or None when none came.
        message: Why it failed, was held or was too large (MoEngage's words where it gave any).
        ambiguous: For a failure, the answer was lost after sending: MoEngage may have
            applied the body.
        stop: The failure will repeat for every other body (bad credentials, a refused
            request format): delivery stops reading bodies.
        answer: MoEngage's answer, parsed, for bodies sent (catalog answers say which items
            were stored).
        refused: Elements MoEngage refused inside a request it accepted (catalog items it
            called invalid).
    """

    body: Body
    outcome: Outcome
    status: int | None = None
    message: str = ""
    ambiguous: bool = False
    stop: bool = False
    answer: Any = None
    refused: int = 0

    @property
    def delivered(self) -> bool:
        """True when MoEngage holds the body: sent now, or sent by an earlier run."""
        return self.outcome in (Outcome.SENT, Outcome.SKIPPED)
