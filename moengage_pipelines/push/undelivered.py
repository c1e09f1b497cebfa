"""Dead letters for bodies that were not delivered: failed, or held back as ambiguous."""

from __future__ import annotations

import orjson

from moengage_pipelines.push.dead_letters import DeadLetterBuffer
from moengage_pipelines.push.send import DeliveryResult

__all__ = ["DELIVERY_FAILED", "HELD_RULE", "write_failed_letters", "write_held_letters"]

# The dead-letter rule of bodies MoEngage did not accept.
DELIVERY_FAILED = "delivery_failed"
# The dead-letter rule of bodies held back by ``resend="never"``.
HELD_RULE = "ambiguous_not_resent"


def write_failed_letters(letters: DeadLetterBuffer, result: DeliveryResult) -> None:
    """One letter per failed body: the rows of a refused body are not kept, only its range."""
    for failure in result.failures:
        letters.add(
            rule=DELIVERY_FAILED,
            column=None,
            message=(
                f"MoEngage did not accept a body of {failure.elements} elements starting at "
                f"row {failure.first_row}: {failure.status or 'no response'} {failure.message}"
            ),
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
