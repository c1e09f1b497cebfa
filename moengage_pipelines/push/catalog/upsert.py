"""``CatalogUpsertSender``: one catalog body in, its items stored (added or updated) out.

MoEngage adds catalog items with ``POST items`` and refuses those that exist already
(``duplicate-item-ids``); those are then updated with ``PATCH items``. Both requests are one
step here, so the body's outcome is known when it returns: no pairing of requests elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.errors import MoEngageError
from moengage_pipelines.push.catalog.answers import CatalogAnswer, parse_catalog_answer
from moengage_pipelines.push.catalog.client import CatalogClient
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send.outcome import BodyOutcome, Outcome
from moengage_pipelines.push.send.sender import outcome_of_error

__all__ = ["CatalogUpsert", "CatalogUpsertSender"]


@dataclass(frozen=True, slots=True)
class CatalogUpsert:
    """What became of the items of one catalog body MoEngage accepted.

    Attributes:
        items: The items sent (``id`` first).
        added: The answer to adding them.
        updated: The answer to updating those that existed (None when none existed).
        updated_ids: Ids of the items that existed and were updated.
        update_failure: Why the update of existing items failed, if it did: those items are
            not stored.
        update_status: HTTP status of that failure, if any.
    """

    items: list[dict[str, Any]]
    added: CatalogAnswer
    updated: CatalogAnswer | None = None
    updated_ids: frozenset[str] = field(default_factory=frozenset)
    update_failure: str | None = None
    update_status: int | None = None

    @property
    def refused(self) -> int:
        """Items not stored: refused when added or updated, or whose update failed."""
        refused = self.added.refused_count
        if self.update_failure is not None:
            refused += len(self.updated_ids)
        elif self.updated is not None:
            refused += self.updated.refused_count
        return refused


class CatalogUpsertSender:
    """Sends catalog bodies to one catalog, updating the items that exist already.

    Args:
        client: The client.
        catalog_id: The catalog the items go to.
    """

    def __init__(self, client: CatalogClient, catalog_id: str) -> None:
        self.client = client
        self.catalog_id = catalog_id

    def __repr__(self) -> str:
        return f"CatalogUpsertSender(catalog_id={self.catalog_id!r})"

    def send(
        self, body: Body, trace: RequestTrace, *, on_dispatch: Callable[[], None] | None = None
    ) -> BodyOutcome:
        """Add the body's items, then update those MoEngage says exist (see the module)."""
        if body.endpoint != "catalog_items":
            raise ValueError(f"body {body.seq} is a {body.endpoint} body, not catalog items")
        try:
            answer = self.client.add_catalog_items(
                self.catalog_id, body.payload, trace=trace, on_dispatch=on_dispatch
            )
        except MoEngageError as exc:
            return outcome_of_error(body, exc)
        added = parse_catalog_answer(answer)
        items: list[dict[str, Any]] = orjson.loads(body.payload)["items"]
        upsert = CatalogUpsert(items, added)
        stop = False
        if added.duplicates:
            upsert, stop = self._update(body, upsert, trace)
        return BodyOutcome(
            body, Outcome.SENT, status=trace.status, answer=upsert, refused=upsert.refused,
            stop=stop,
        )

    def _update(
        self, body: Body, upsert: CatalogUpsert, trace: RequestTrace
    ) -> tuple[CatalogUpsert, bool]:
        existing = [item for item in upsert.items if str(item["id"]) in upsert.added.duplicates]
        ids = frozenset(str(item["id"]) for item in existing)
        updates = [
            {"id": item["id"], "attributes": {k: v for k, v in item.items() if k != "id"}}
            for item in existing
        ]
        update_trace = RequestTrace()
        try:
            answer = self.client.update_catalog_items(
                self.catalog_id, updates, trace=update_trace
            )
        except MoEngageError as exc:
            failed = outcome_of_error(body, exc)
            _add_attempts(trace, update_trace)
            return (
                CatalogUpsert(
                    upsert.items, upsert.added, updated_ids=ids,
                    update_failure=f"updating existing items: {failed.message}",
                    update_status=failed.status,
                ),
                failed.stop,
            )
        _add_attempts(trace, update_trace)
        updated = parse_catalog_answer(answer)
        return CatalogUpsert(upsert.items, upsert.added, updated, ids), False


def _add_attempts(trace: RequestTrace, other: RequestTrace) -> None:
    """Count a second request's attempts in the body's trace."""
    trace.attempts += other.attempts
    trace.retries += other.retries
    trace.http_429 += other.http_429
    trace.ambiguous_retries += other.ambiguous_retries
    trace.budget_wait_seconds += other.budget_wait_seconds
    trace.retry_wait_seconds += other.retry_wait_seconds
