"""``BodySender``: the one thing delivery needs, and the sender that talks to MoEngage.

A sender takes one :class:`~moengage_pipelines.push.pack.body.Body` and returns its
:class:`~moengage_pipelines.push.send.outcome.BodyOutcome`; it never raises for a refused body.
Delivery runs senders concurrently and splits bodies they call too large. The delivery state
(``moengage_pipelines.push.ledger``) is a sender too, wrapped around this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.exceptions import (
    MoEngageConnectionError,
    MoEngageUnreachableError,
    RateBudgetError,
    RateBudgetStoreError,
    RateBudgetTimeoutError,
)
from moengage_pipelines.api.retries import is_ambiguous
from moengage_pipelines.errors import (
    AuthError,
    MoEngageError,
    MoEngageHTTPError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestRejectedError,
)
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome

__all__ = ["BodySender", "TransitionClient", "TransitionSender", "outcome_of_error"]

# Called once an attempt has been admitted by the rate budget and is handed to the transport.
DispatchHook = Callable[[], None]


class BodySender(Protocol):
    """Sends one body and says what became of it."""

    def send(
        self, body: Body, trace: RequestTrace, *, on_dispatch: DispatchHook | None = None
    ) -> BodyOutcome:
        """Send ``body``; fill ``trace`` with the attempts made.

        Args:
            body: The body (or a piece of one).
            trace: Filled in with attempts, retries and waits.
            on_dispatch: Called when a request carrying the body is about to go out (after
                the rate budget admitted it), so that the delivery state can record it in
                flight only then.
        """
        ...


class TransitionClient(Protocol):
    """What :class:`TransitionSender` needs from ``MoEngageClient``."""

    def post_transition(
        self,
        body: bytes,
        *,
        users: int,
        events: int,
        trace: RequestTrace | None = None,
        on_dispatch: DispatchHook | None = None,
    ) -> dict[str, Any]:
        """Send a bulk-import body."""
        ...


class TransitionSender:
    """Sends bulk-import bodies through the client.

    Args:
        client: The client (its rate budget paces the requests).
    """

    def __init__(self, client: TransitionClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"TransitionSender({self.client!r})"

    def send(
        self, body: Body, trace: RequestTrace, *, on_dispatch: DispatchHook | None = None
    ) -> BodyOutcome:
        """Send one bulk-import body (see :class:`BodySender`)."""
        if body.endpoint != "transition":
            raise ValueError(f"body {body.seq} is a {body.endpoint} body, not a bulk import")
        try:
            answer = self.client.post_transition(
                body.payload, users=body.users, events=body.events, trace=trace,
                on_dispatch=on_dispatch,
            )
        except MoEngageError as exc:
            return outcome_of_error(body, exc)
        return BodyOutcome(body, Outcome.SENT, status=trace.status, answer=answer)


def outcome_of_error(body: Body, error: MoEngageError) -> BodyOutcome:
    """The outcome of a body whose request ended in ``error``.

    Failures that every later body would meet the same way stop delivery (``stop``): bad
    credentials, a refusal of the request itself rather than of its data, an unreachable
    host, a rate budget store that fails, 429s past the deadline.

    Raises:
        MoEngageError: ``error`` itself when it is not about the request (a configuration
            error such as a missing key), which no other body could escape either.
    """
    if isinstance(error, PayloadTooLargeError):
        return BodyOutcome(body, Outcome.TOO_LARGE, status=error.status, message=error.message)
    if isinstance(error, RateBudgetError):
        return BodyOutcome(body, Outcome.TOO_LARGE, message=str(error))
    if isinstance(error, MoEngageHTTPError):
        stop = isinstance(error, AuthError | RateLimitedError) or (
            isinstance(error, RequestRejectedError) and error.client_side
        )
        return BodyOutcome(
            body, Outcome.FAILED, status=error.status, message=error.message,
            ambiguous=is_ambiguous(error), stop=stop,
        )
    if isinstance(error, MoEngageUnreachableError):
        return BodyOutcome(body, Outcome.FAILED, message=str(error), stop=True)
    if isinstance(error, MoEngageConnectionError):
        return BodyOutcome(body, Outcome.FAILED, message=str(error), ambiguous=error.ambiguous)
    if isinstance(error, RateBudgetStoreError):
        return BodyOutcome(body, Outcome.FAILED, message=str(error), stop=True)
    if isinstance(error, RateBudgetTimeoutError):
        return BodyOutcome(body, Outcome.FAILED, message=str(error))
    raise error
