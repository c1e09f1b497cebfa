"""Sending packed bodies to MoEngage concurrently, within the rate budget.

``deliver`` reads bodies lazily and keeps at most a few of them in flight, so memory does not
grow with the input. Worker threads share one client (one connection pool, one budget). A
body MoEngage refuses as too large (413), or one heavier than a rate window, is split in two
and the halves are sent in its place, recursively; an element that is too large on its own
becomes a failed body with the reason. Other refusals are recorded per body (first row,
status, MoEngage's message); the run goes on unless ``fail_fast`` is set. An authentication
failure always stops the run: every later body would fail the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.exceptions import (
    MoEngageConnectionError,
    RateBudgetError,
    RateBudgetTimeoutError,
)
from moengage_pipelines.errors import AuthError, MoEngageHTTPError, PayloadTooLargeError
from moengage_pipelines.push.body import Body

__all__ = ["DeliveryClient", "DeliveryResult", "FailedBody", "deliver"]

logger = logging.getLogger(__name__)

# Catalog item problems kept in the result (MoEngage reports them per request).
_MAX_ITEM_ERRORS = 100


class DeliveryClient(Protocol):
    """What ``deliver`` needs from :class:`~moengage_pipelines.api.client.MoEngageClient`."""

    def post_transition(
        self, body: bytes, *, users: int, events: int, trace: RequestTrace | None = None
    ) -> dict[str, Any]:
        """Send a bulk-import body."""
        ...

    def add_catalog_items(
        self, catalog_id: str, items: bytes, *, trace: RequestTrace | None = None
    ) -> dict[str, Any]:
        """Add catalog items."""
        ...

    def update_catalog_items(
        self, catalog_id: str, items: bytes, *, trace: RequestTrace | None = None
    ) -> dict[str, Any]:
        """Update catalog items."""
        ...


@dataclass(frozen=True, slots=True)
class FailedBody:
    """A body (or a piece of one after splitting) MoEngage did not accept.

    Attributes:
        first_row: Index of its first source row.
        elements: Elements (or items) in it; they are rows ``first_row`` to
            ``first_row + elements - 1`` when the packer kept one element per row.
        status: HTTP status, or None when no response came (connection failures).
        message: MoEngage's message or the failure's description.
        ambiguous: The failure happened after MoEngage may have applied the body.
    """

    first_row: int
    elements: int
    status: int | None
    message: str
    ambiguous: bool = False


@dataclass
class DeliveryResult:
    """Totals of one delivery.

    Attributes:
        bodies_sent: Bodies MoEngage accepted (halves of split bodies count one each).
        bytes_sent: Their bytes.
        users_sent: Customer elements in them.
        events_sent: Event actions in them.
        items_sent: Catalog items in them (MoEngage may still call some invalid).
        items_invalid: Catalog items MoEngage reported invalid in accepted requests.
        item_errors: Up to 100 of those reports (``first_row``, ``error-id``, ``message``,
            ``document_ids``).
        retries: Attempts repeated after a 429, 5xx or transport failure.
        http_429: 429 answers.
        splits_413: Bodies split after a 413.
        splits_budget: Bodies split because they outweighed a rate window.
        ambiguous_retries: Retries of attempts MoEngage may already have applied.
        ambiguous_rows: First rows of bodies that had such a retry (possible duplicates).
        budget_wait_seconds: Time workers spent waiting for the rate budget.
        failures: Bodies not accepted, in completion order.
        stopped: True when delivery stopped early (``fail_fast`` or an authentication error).
    """

    bodies_sent: int = 0
    bytes_sent: int = 0
    users_sent: int = 0
    events_sent: int = 0
    items_sent: int = 0
    items_invalid: int = 0
    item_errors: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    http_429: int = 0
    splits_413: int = 0
    splits_budget: int = 0
    ambiguous_retries: int = 0
    ambiguous_rows: list[int] = field(default_factory=list)
    budget_wait_seconds: float = 0.0
    failures: list[FailedBody] = field(default_factory=list)
    stopped: bool = False

    @property
    def ok(self) -> bool:
        """True when every body was accepted and delivery ran to the end."""
        return not self.failures and not self.stopped

    @property
    def failed_elements(self) -> int:
        """Elements in failed bodies."""
        return sum(failure.elements for failure in self.failures)

    def as_dict(self) -> dict[str, Any]:
        """Counters as a flat dict (for reports and metadata)."""
        return {
            "bodies_sent": self.bodies_sent,
            "bytes_sent": self.bytes_sent,
            "users_sent": self.users_sent,
            "events_sent": self.events_sent,
            "items_sent": self.items_sent,
            "items_invalid": self.items_invalid,
            "retries": self.retries,
            "http_429": self.http_429,
            "splits_413": self.splits_413,
            "splits_budget": self.splits_budget,
            "ambiguous_retries": self.ambiguous_retries,
            "budget_wait_seconds": round(self.budget_wait_seconds, 3),
            "failed_bodies": len(self.failures),
            "failed_elements": self.failed_elements,
            "stopped": self.stopped,
        }


@dataclass
class _Outcome:
    """What happened to one input body and any pieces it was split into."""

    sent: list[tuple[Body, dict[str, Any]]] = field(default_factory=list)
    failed: list[FailedBody] = field(default_factory=list)
    traces: list[RequestTrace] = field(default_factory=list)
    ambiguous_rows: list[int] = field(default_factory=list)
    splits_413: int = 0
    splits_budget: int = 0
    auth_failed: bool = False


def deliver(
    bodies: Iterable[Body],
    client: DeliveryClient,
    *,
    concurrency: int = 4,
    on_progress: Callable[[DeliveryResult], None] | None = None,
    fail_fast: bool = False,
    catalog_id: str | None = None,
    catalog_mode: Literal["add", "update"] = "add",
    max_in_flight: int | None = None,
) -> DeliveryResult:
    """Send bodies concurrently through ``client`` and total what happened.

    Args:
        bodies: Packed bodies, read lazily (a generator is fine).
        client: A :class:`~moengage_pipelines.api.client.MoEngageClient`; its rate budget
            paces the workers.
        concurrency: Worker threads.
        on_progress: Called in the caller's thread with the running totals after each input
            body is done (do not keep or change the object).
        fail_fast: Stop reading bodies after the first failure (bodies in flight finish).
        catalog_id: The catalog that ``catalog_items`` bodies go to.
        catalog_mode: ``"add"`` (POST items) or ``"update"`` (PATCH items).
        max_in_flight: Bodies read ahead of completion; defaults to twice ``concurrency``.

    Returns:
        The totals, failures included; nothing is raised for a refused body.

    Raises:
        ValueError: For a catalog body without ``catalog_id``, or a bad ``concurrency``.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    limit = max_in_flight or 2 * concurrency
    result = DeliveryResult()

    def send(body: Body, trace: RequestTrace) -> dict[str, Any]:
        if body.endpoint == "transition":
            return client.post_transition(
                body.payload, users=body.users, events=body.events, trace=trace
            )
        if not catalog_id:
            raise ValueError(f"body at row {body.first_row} is a catalog body but no catalog_id")
        if catalog_mode == "update":
            return client.update_catalog_items(catalog_id, body.payload, trace=trace)
        return client.add_catalog_items(catalog_id, body.payload, trace=trace)

    def work(body: Body) -> _Outcome:
        return _deliver_one(body, send)

    in_flight: set[Future[_Outcome]] = set()

    def settle(done: Iterable[Future[_Outcome]]) -> None:
        for future in done:
            outcome = future.result()  # a non-MoEngage exception is a bug: let it surface
            _merge(result, outcome)
            if outcome.failed and (fail_fast or outcome.auth_failed) and not result.stopped:
                result.stopped = True
                logger.error("stopping delivery: %s", outcome.failed[0].message)
            if on_progress is not None:
                on_progress(result)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="moengage-deliver") as pool:
        try:
            for body in bodies:
                if result.stopped:
                    break
                while len(in_flight) >= limit:
                    done, in_flight = _wait_some(in_flight)
                    settle(done)
                if result.stopped:
                    break
                in_flight.add(pool.submit(work, body))
            while in_flight:
                done, in_flight = _wait_some(in_flight)
                settle(done)
        except BaseException:
            for future in in_flight:
                future.cancel()
            raise
    return result


def _wait_some(
    futures: set[Future[_Outcome]],
) -> tuple[set[Future[_Outcome]], set[Future[_Outcome]]]:
    done, pending = wait(futures, return_when=FIRST_COMPLETED)
    return set(done), set(pending)


def _deliver_one(body: Body, send: Callable[[Body, RequestTrace], dict[str, Any]]) -> _Outcome:
    """Send one body, splitting it as needed; runs in a worker thread."""
    outcome = _Outcome()
    pending = [body]
    while pending:
        piece = pending.pop()
        trace = RequestTrace()
        outcome.traces.append(trace)
        try:
            answer = send(piece, trace)
        except (PayloadTooLargeError, RateBudgetError) as exc:
            too_large = isinstance(exc, PayloadTooLargeError)
            try:
                left, right = piece.split()
            except ValueError:
                status = exc.status if isinstance(exc, PayloadTooLargeError) else None
                reason = exc.message if isinstance(exc, PayloadTooLargeError) else str(exc)
                outcome.failed.append(
                    FailedBody(
                        piece.first_row,
                        piece.elements,
                        status,
                        f"a single element is too large to send ({piece.size} bytes): {reason}",
                    )
                )
            else:
                if too_large:
                    outcome.splits_413 += 1
                else:
                    outcome.splits_budget += 1
                pending.extend((right, left))  # left half goes first
        except MoEngageHTTPError as exc:
            outcome.failed.append(
                FailedBody(piece.first_row, piece.elements, exc.status, exc.message)
            )
            outcome.auth_failed = outcome.auth_failed or isinstance(exc, AuthError)
        except MoEngageConnectionError as exc:
            outcome.failed.append(
                FailedBody(piece.first_row, piece.elements, None, str(exc), exc.ambiguous)
            )
            if exc.ambiguous:
                outcome.ambiguous_rows.append(piece.first_row)
        except RateBudgetTimeoutError as exc:
            outcome.failed.append(FailedBody(piece.first_row, piece.elements, None, str(exc)))
        else:
            outcome.sent.append((piece, answer))
        if trace.ambiguous_retries and piece.first_row not in outcome.ambiguous_rows:
            outcome.ambiguous_rows.append(piece.first_row)
    return outcome


def _merge(result: DeliveryResult, outcome: _Outcome) -> None:
    for piece, answer in outcome.sent:
        result.bodies_sent += 1
        result.bytes_sent += piece.size
        result.users_sent += piece.users
        result.events_sent += piece.events
        result.items_sent += piece.items
        if piece.endpoint == "catalog_items":
            _count_invalid_items(result, piece, answer)
    for trace in outcome.traces:
        result.retries += trace.retries
        result.http_429 += trace.http_429
        result.ambiguous_retries += trace.ambiguous_retries
        result.budget_wait_seconds += trace.budget_wait_seconds
    result.splits_413 += outcome.splits_413
    result.splits_budget += outcome.splits_budget
    result.ambiguous_rows.extend(outcome.ambiguous_rows)
    result.failures.extend(outcome.failed)
    for failure in outcome.failed:
        logger.warning(
            "body at row %d (%d elements) failed: %s %s",
            failure.first_row,
            failure.elements,
            failure.status or "",
            failure.message,
        )


def _count_invalid_items(result: DeliveryResult, piece: Body, answer: dict[str, Any]) -> None:
    message = answer.get("message") if isinstance(answer, dict) else None
    invalid = message.get("invalid") if isinstance(message, dict) else None
    if not isinstance(invalid, dict):
        return
    count = invalid.get("count") or 0
    result.items_invalid += int(count) if isinstance(count, int | float) else 0
    for detail in invalid.get("details") or ():
        if len(result.item_errors) >= _MAX_ITEM_ERRORS:
            break
        if isinstance(detail, dict):
            result.item_errors.append({"first_row": piece.first_row, **detail})
