"""``DryRunSender``: sends nothing; every body counts as sent, so a dry run reports the push."""

from __future__ import annotations

from collections.abc import Callable

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome

__all__ = ["DryRunSender"]


class DryRunSender:
    """A :class:`~moengage_pipelines.push.send.sender.BodySender` that makes no request."""

    def __repr__(self) -> str:
        return "DryRunSender()"

    def send(
        self, body: Body, trace: RequestTrace, *, on_dispatch: Callable[[], None] | None = None
    ) -> BodyOutcome:
        """Count the body as sent without sending it."""
        return BodyOutcome(body, Outcome.SENT)
