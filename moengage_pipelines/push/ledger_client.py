"""A client wrapper that records every request body in the push ledger.

Only bulk-import and catalog-item bodies are tracked; every other request passes through. A body
the ledger shows sent (a piece of a split body, or a catalog body) is answered from the ledger
without a request.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import TYPE_CHECKING, Any

import orjson

from moengage_pipelines.errors import MoEngageHTTPError
from moengage_pipelines.push.ledger import AMBIGUOUS, FAILED, SENT

if TYPE_CHECKING:
    from moengage_pipelines.api.counters import RequestTrace
    from moengage_pipelines.push.state import LedgerSession

__all__ = ["LedgeredClient", "failure_message", "failure_status"]

DUPLICATE_ITEM_IDS = "duplicate-item-ids"


class LedgeredClient:
    """A client that records every body in the ledger and never resends one already sent.

    Requests other than bulk-import and catalog-item bodies pass straight through.
    """

    def __init__(self, session: LedgerSession, client: Any) -> None:
        self._session = session
        self._client = (
            client if session.resend != "never" else _without_ambiguous_retries(client)
        )

    def __repr__(self) -> str:
        return f"LedgeredClient({self._client!r})"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def post_transition(
        self, body: bytes, *, users: int, events: int, trace: RequestTrace | None = None
    ) -> dict[str, Any]:
        """Send a bulk-import body unless the ledger shows it sent (see ``LedgerSession``)."""
        session = self._session
        info = session.claim(body)
        if info is None:
            # A piece of a body split after a 413, or a body sent without ``filter``.
            info = session.describe(body, session.workspace, users=users, events=events)
            decision = session.decide(info)
            if decision != "send":
                return session.answer_from_ledger(info, decision)

        def call(trace: RequestTrace) -> dict[str, Any]:
            return self._client.post_transition(body, users=users, events=events, trace=trace)

        return session.send(info, call, trace)

    def add_catalog_items(
        self, catalog_id: str, items: Any, *, trace: RequestTrace | None = None
    ) -> dict[str, Any]:
        """Add catalog items unless the ledger shows this body sent to this catalog."""
        session = self._session
        deferred = session.take_deferred()
        if deferred is not None:
            session.record(deferred[0], FAILED, deferred[1], "existing items were not updated")
        if not isinstance(items, bytes):
            return self._client.add_catalog_items(catalog_id, items, trace=trace)
        info = session.describe(
            items, f"{session.workspace}/catalog/{catalog_id}", numbered=True,
            items=_count_items(items),
        )
        decision = session.decide(info)
        if decision != "send":
            return session.answer_from_ledger(info, decision)

        def call(trace: RequestTrace) -> dict[str, Any]:
            return self._client.add_catalog_items(catalog_id, items, trace=trace)

        return session.send(info, call, trace, judge=_judge_catalog_add)

    def update_catalog_items(
        self, catalog_id: str, items: Any, *, trace: RequestTrace | None = None
    ) -> dict[str, Any]:
        """Update existing items; the body they came in is ``sent`` once this succeeds."""
        session = self._session
        deferred = session.take_deferred()
        if deferred is None:
            return self._client.update_catalog_items(catalog_id, items, trace=trace)
        info, add_trace = deferred
        try:
            answer = self._client.update_catalog_items(catalog_id, items, trace=trace)
        except BaseException as exc:
            status = failure_status(exc)
            if status is not None:
                session.record(info, status, add_trace, f"updating items: {failure_message(exc)}")
            raise
        refused = _catalog_refusals(answer)[1]
        if refused:
            session.record(info, FAILED, add_trace, f"MoEngage refused {refused} updated items")
        else:
            session.record(info, SENT, add_trace, None)
        return answer


def _judge_catalog_add(answer: dict[str, Any]) -> tuple[str | None, str | None]:
    """The ledger status of a catalog body from MoEngage's answer.

    A body is ``sent`` when every item was stored. Items MoEngage refused come back as dead
    letters on every run, so such a body is sent again (an idempotent upsert).
    """
    duplicates, refused = _catalog_refusals(answer)
    if refused:
        return FAILED, f"MoEngage refused {refused} items"
    if duplicates:
        return None, None  # existing items: sent once the update that follows succeeds
    return SENT, None


def _catalog_refusals(answer: Any) -> tuple[bool, int]:
    """Whether MoEngage called some items duplicates, and how many it refused otherwise."""
    message = answer.get("message") if isinstance(answer, dict) else None
    invalid = message.get("invalid") if isinstance(message, dict) else None
    details = invalid.get("details") if isinstance(invalid, dict) else None
    duplicates, refused = False, 0
    for detail in details or ():
        if not isinstance(detail, dict):
            continue
        if detail.get("error-id") == DUPLICATE_ITEM_IDS:
            duplicates = True
        else:
            count = detail.get("count") or len(detail.get("document_ids") or ()) or 1
            refused += int(count) if isinstance(count, int | float) else 1
    return duplicates, refused


def _count_items(payload: bytes) -> int:
    try:
        items = orjson.loads(payload).get("items")
    except (orjson.JSONDecodeError, AttributeError):
        return 0
    return len(items) if isinstance(items, list) else 0


def failure_status(exc: BaseException) -> str | None:
    """The ledger status a failed request leaves, or None when it cannot be told."""
    # The API layer is imported when a request is made, so that dry runs need not load it.
    from moengage_pipelines.api.exceptions import (
        MoEngageConnectionError,
        RateBudgetError,
        RateBudgetTimeoutError,
    )
    from moengage_pipelines.api.retries import is_ambiguous

    if isinstance(exc, MoEngageConnectionError):
        return AMBIGUOUS if exc.ambiguous else FAILED
    if isinstance(exc, MoEngageHTTPError):
        return AMBIGUOUS if is_ambiguous(exc) else FAILED
    if isinstance(exc, RateBudgetError | RateBudgetTimeoutError):
        return FAILED  # refused before anything went out
    # Anything else (an interrupt, a bug) leaves the intent without outcome: ambiguous.
    return None


def failure_message(exc: BaseException) -> str:
    """What the ledger stores about a failed request."""
    if isinstance(exc, MoEngageHTTPError):
        return f"{exc.status} {exc.message}"[:2000]
    return str(exc)[:2000]


def _without_ambiguous_retries(client: Any) -> Any:
    """The same client (same connections, budget and counters) minus ambiguous retries.

    Under ``resend="never"`` a request that may have been applied must not be repeated by the
    client's own retries either; other retries (429, 5xx before applying, refused connections)
    stay.
    """
    from moengage_pipelines.api.retries import RetryPolicy

    policy = getattr(client, "retry", None)
    if not isinstance(policy, RetryPolicy) or not policy.config.retry_ambiguous:
        return client
    view = copy.copy(client)
    view.retry = RetryPolicy(dataclasses.replace(policy.config, retry_ambiguous=False))
    return view
