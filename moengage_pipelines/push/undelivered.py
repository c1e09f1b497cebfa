"""Dead letters for bodies that were not delivered: failed, or held back as ambiguous."""

from __future__ import annotations

import orjson

from moengage_pipelines.push.dead_letters import DeadLetterBuffer
from moengage_pipelines.push.send import DeliveryResult

__all__ = [
    "DELIVERY_AMBIGUOUS",
    "DELIVERY_FAILED",
    "HELD_RULE",
    "NOT_SENT",
    "write_failed_letters",
    "write_held_letters",
    "write_undelivered_letters",
    "write_unsent_letter",
]

# The dead-letter rule of bodies MoEngage did not accept.
DELIVERY_FAILED = "delivery_failed"
# Bodies whose answer was lost after sending: MoEngage may have applied them.
DELIVERY_AMBIGUOUS = "delivery_ambiguous"
# The dead-letter rule of bodies held back by ``resend="never"``.
HELD_RULE = "ambiguous_not_resent"
# Bodies never sent because delivery stopped.
NOT_SENT = "not_sent"


def write_undelivered_letters(letters: DeadLetterBuffer, result: DeliveryResult) -> None:
    """Letters for every body not delivered: failed, held back, or never sent."""
    write_failed_letters(letters, result)
    write_held_letters(letters, result)
    write_unsent_letter(letters, result)


def write_failed_letters(letters: DeadLetterBuffer, result: DeliveryResult) -> None:
    """One letter per failed body: the rows of a refused body are not kept, only its range."""
    for failure in result.failures:
        if failure.ambiguous:
            rule = DELIVERY_AMBIGUOUS
            message = (
                f"the answer to a body of {failure.elements} elements starting at row "
                f"{failure.first_row} was lost after sending, so MoEngage may have applied it "
                f"({failure.status or 'no response'} {failure.message}); the next run sends "
                "it again"
            )
        else:
            rule = DELIVERY_FAILED
            message = (
                f"MoEngage did not accept a body of {failure.elements} elements starting at "
                f"row {failure.first_row}: {failure.status or 'no response'} {failure.message}"
            )
        letters.add(
            rule=rule,
            column=None,
            message=message,
            row=orjson.dumps(
                {
                    "first_row": failure.first_row,
                    "elements": failure.elements,
                    "status": failure.status,
                    "ambiguous": failure.ambiguous,
                }
            ).decode(),
            row_key=None,
            row_number=failure.first_row,
            counted=False,  # reported as failed rows, not as validation rejects
        )


def write_held_letters(letters: DeadLetterBuffer, result: DeliveryResult) -> None:
    """One letter per body held back: it may have been applied, so it was not sent again."""
    for body in result.held:
        letters.add(
            rule=HELD_RULE,
            column=None,
            message=(
                f"a body of {body.elements} elements starting at row {body.first_row} may "
                "already have been applied by MoEngage (its answer was lost); it was not sent "
                "again, to avoid duplicates. Push the partition with resend='ambiguous' to "
                "send it."
            ),
            row=orjson.dumps(
                {"first_row": body.first_row, "elements": body.elements, "body_seq": body.seq,
                 "piece": body.piece}
            ).decode(),
            row_key=None,
            row_number=body.first_row,
            counted=False,
        )


def write_unsent_letter(letters: DeadLetterBuffer, result: DeliveryResult) -> None:
    """One letter for the bodies never sent because delivery stopped, if any."""
    if not result.unsent_bodies:
        return
    first = result.first_unsent_row or 0
    letters.add(
        rule=NOT_SENT,
        column=None,
        message=(
            f"{result.unsent_rows} rows in {result.unsent_bodies} bodies from row {first} on "
            f"were not sent: delivery stopped after {result.stop_reason}"
        ),
        row=orjson.dumps(
            {"first_row": first, "elements": result.unsent_rows, "bodies": result.unsent_bodies}
        ).decode(),
        row_key=None,
        row_number=first,
        counted=False,
    )
