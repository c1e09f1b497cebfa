"""Sending packed bodies concurrently through a :class:`BodySender`, and totalling outcomes.

``deliver`` reads bodies lazily and keeps at most a few of them in flight, so memory does not
grow with the input. Worker threads share one sender (one client: one connection pool, one
budget). A body the sender calls too large (a 413, or heavier than a rate window) is split in
two and the halves are sent in its place, recursively; a single element too large on its own
fails with the reason. Every body ends with one outcome per piece, counted here as it is: sent,
skipped, held or failed. Delivery stops reading bodies after a failure that would repeat for
every body (bad credentials), or after any failure with ``fail_fast``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome
from moengage_pipelines.push.send.result import DeliveryResult
from moengage_pipelines.push.send.sender import BodySender

__all__ = ["count_unsent", "deliver"]

logger = logging.getLogger(__name__)


@dataclass
class _BodyRun:
    """What happened to one input body and the pieces it was split into."""

    outcomes: list[BodyOutcome] = field(default_factory=list)
    traces: list[tuple[Body, RequestTrace]] = field(default_factory=list)
    splits_413: int = 0
    splits_budget: int = 0


def deliver(
    bodies: Iterable[Body],
    sender: BodySender,
    *,
    concurrency: int = 4,
    on_outcome: Callable[[BodyOutcome], None] | None = None,
    on_progress: Callable[[DeliveryResult], None] | None = None,
    fail_fast: bool = False,
    max_in_flight: int | None = None,
) -> DeliveryResult:
    """Send bodies concurrently through ``sender`` and total their outcomes.

    Args:
        bodies: Packed bodies, read lazily (a generator is fine).
        sender: Sends one body (a :class:`TransitionSender`, a catalog sender, or the
            delivery state wrapped around one).
        concurrency: Worker threads.
        on_outcome: Called in the caller's thread with each final outcome (one per piece),
            in completion order.
        on_progress: Called in the caller's thread with the running totals after each input
            body is done (do not keep or change the object).
        fail_fast: Stop reading bodies after the first failure (bodies in flight finish).
        max_in_flight: Bodies read ahead of completion; defaults to twice ``concurrency``.

    Returns:
        The totals; nothing is raised for a refused body.

    Raises:
        ValueError: For a bad ``concurrency``.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    limit = max_in_flight or 2 * concurrency
    result = DeliveryResult()
    in_flight: set[Future[_BodyRun]] = set()

    def settle(done: Iterable[Future[_BodyRun]]) -> None:
        for future in done:
            run = future.result()  # a non-MoEngage exception is a bug: let it surface
            _merge(result, run)
            for outcome in run.outcomes:
                if on_outcome is not None:
                    on_outcome(outcome)
                failed = outcome.outcome is Outcome.FAILED
                if failed and (fail_fast or outcome.stop) and not result.stopped:
                    result.stopped = True
                    result.stop_reason = _describe(outcome)
                    result.stop_status = outcome.status
                    logger.error("stopping delivery: %s", result.stop_reason)
            if on_progress is not None:
                on_progress(result)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="moengage-deliver") as pool:
        try:
            for body in bodies:
                while len(in_flight) >= limit and not result.stopped:
                    done, in_flight = _wait_some(in_flight)
                    settle(done)
                if result.stopped:
                    result.count_unsent(body)  # read, but delivery stopped before it left
                    break
                in_flight.add(pool.submit(_deliver_one, body, sender))
            while in_flight:
                done, in_flight = _wait_some(in_flight)
                settle(done)
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise
    return result


def _wait_some(
    futures: set[Future[_BodyRun]],
) -> tuple[set[Future[_BodyRun]], set[Future[_BodyRun]]]:
    done, pending = wait(futures, return_when=FIRST_COMPLETED)
    return set(done), set(pending)


def _deliver_one(body: Body, sender: BodySender) -> _BodyRun:
    """Send one body, splitting it as needed; runs in a worker thread."""
    run = _BodyRun()
    pending = [body]
    while pending:
        piece = pending.pop()
        trace = RequestTrace()
        run.traces.append((piece, trace))
        outcome = sender.send(piece, trace)
        if outcome.outcome is Outcome.TOO_LARGE:
            try:
                left, right = piece.split()
            except ValueError:
                outcome = BodyOutcome(
                    piece, Outcome.FAILED, status=outcome.status,
                    message=(
                        f"a single element is too large to send ({piece.size} bytes): "
                        f"{outcome.message}"
                    ),
                )
            else:
                if outcome.status == 413:
                    run.splits_413 += 1
                else:
                    run.splits_budget += 1
                pending.extend((right, left))  # the left half goes first
                continue
        run.outcomes.append(outcome)
    return run


def _merge(result: DeliveryResult, run: _BodyRun) -> None:
    for outcome in run.outcomes:
        result.count(outcome)
    for piece, trace in run.traces:
        result.add_trace(piece, trace)
    result.splits_413 += run.splits_413
    result.splits_budget += run.splits_budget


def count_unsent(bodies: Iterable[Body], result: DeliveryResult) -> None:
    """Count the bodies left in ``bodies`` after delivery stopped, without sending them.

    Reading them still validates their rows (rejects become dead letters as usual), so that
    every valid row of the push ends counted: sent, skipped, held, failed, or not sent.
    """
    for body in bodies:
        result.count_unsent(body)


def _describe(outcome: BodyOutcome) -> str:
    status = f"{outcome.status} " if outcome.status else ""
    return f"{status}{outcome.message}".strip() or "a body failed"
