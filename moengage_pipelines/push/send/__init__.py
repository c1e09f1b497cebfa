"""Send: bodies go out through a :class:`BodySender`, concurrently, and come back as outcomes.

``deliver`` (concurrency, splits after a 413) → a sender (``TransitionSender`` for bulk import,
the catalog's upsert sender for catalog items; the delivery state wraps either) → the client
(rate budget, retries) → MoEngage.
"""

from moengage_pipelines.push.send.delivery import count_unsent, deliver
from moengage_pipelines.push.send.dry_run import DryRunSender
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome
from moengage_pipelines.push.send.result import DeliveryResult, FailedBody
from moengage_pipelines.push.send.sender import BodySender, TransitionSender, outcome_of_error

__all__ = [
    "BodyOutcome",
    "BodySender",
    "DeliveryResult",
    "DryRunSender",
    "FailedBody",
    "Outcome",
    "TransitionSender",
    "count_unsent",
    "deliver",
    "outcome_of_error",
]
