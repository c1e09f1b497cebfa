"""One push's use of the delivery state: its sender and its row in ``moengage_push_runs``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from moengage_pipelines.push.dead_letters.letter import utc_now
from moengage_pipelines.push.ledger.policy import (
    Delivery,
    ResendPolicy,
    check_resend,
    default_resend,
)
from moengage_pipelines.push.ledger.sender import LedgerScope, LedgerSender
from moengage_pipelines.push.ledger.store import PushLedger
from moengage_pipelines.push.send.sender import BodySender
from moengage_pipelines.warehouse import WarehouseError

__all__ = ["Destination", "destination_of", "tracked"]

logger = logging.getLogger(__name__)


class Destination(Protocol):
    """What names a destination: the client's settings (``MoEngageSettings``)."""

    @property
    def api_base_redacted(self) -> str:
        """The API base URL, without any password."""
        ...

    workspace_id: str


def destination_of(settings: Destination, entity: str, catalog_id: str | None = None) -> str:
    """Where a push's bodies go: API base URL, workspace id and entity (plus the catalog).

    Keys never take part: the same workspace reached with another key is the same
    destination, and another workspace or another host (a second data centre, the emulator)
    is another.
    """
    base = f"{settings.api_base_redacted.rstrip('/')}/{settings.workspace_id}"
    return f"{base}/catalog/{catalog_id}" if catalog_id else f"{base}/{entity}"


@contextmanager
def tracked(
    inner: BodySender,
    ledger: PushLedger | None,
    *,
    sync_name: str,
    partition: str | None,
    destination: str | None,
    entity: str,
    resend: ResendPolicy | None,
    read_only: bool,
    run_id: str | None = None,
    skip_delivered: bool = True,
) -> Iterator[BodySender]:
    """The sender a push sends through: ``inner`` itself, or the delivery state around it.

    Args:
        inner: The sender that talks to MoEngage (or only counts, in a dry run).
        ledger: The delivery state; None sends every body and records nothing.
        sync_name: The push.
        partition: Its partition key.
        destination: Where its bodies go; None (a dry run without a client) consults what
            any destination received.
        entity: ``users``, ``events`` or ``catalog`` (chooses the default resend policy).
        resend: What to do with bodies MoEngage may already have applied.
        read_only: Consult the state but write nothing (dry runs).
        run_id: The run the push belongs to (default: the ledger's ``run_id``).
        skip_delivered: Skip bodies an earlier push delivered. A diff sync turns it off: it
            already leaves out every row MoEngage confirmed, so a body identical to one sent
            long ago (a row changed, then changed back) must go out again. Bodies that may
            have been applied are still held under ``resend="never"``.
    """
    if ledger is None:
        yield inner
        return
    policy = check_resend(resend or default_resend(entity))
    known = ledger.statuses(sync_name, partition, destination)
    if not skip_delivered:
        known = {key: status for key, status in known.items() if status is not Delivery.SENT}
    scope = LedgerScope(
        sync_name=sync_name, partition=partition, destination=destination or "",
        push_id=uuid.uuid4().hex, run_id=run_id or ledger.run_id,
    )
    sender = LedgerSender(
        inner, ledger=None if read_only else ledger, known=known, resend=policy, scope=scope
    )
    if read_only:
        yield sender
        return
    started = utc_now()
    ledger.write_run(_run_row(sender, entity, started, "running", None))
    failure: BaseException | None = None
    try:
        yield sender
    except BaseException as exc:
        failure = exc
        raise
    finally:
        counts = sender.counts
        if failure is not None:
            status, error = "error", f"{type(failure).__name__}: {failure}"[:2000]
        elif counts.bodies_failed or counts.bodies_ambiguous or counts.bodies_held:
            status, error = "incomplete", None
        else:
            status, error = "succeeded", None
        try:
            ledger.write_run(_run_row(sender, entity, started, status, error))
        except WarehouseError:
            if failure is None:
                raise
            logger.exception("could not record the end of push %s", scope.push_id)


def _run_row(
    sender: LedgerSender, entity: str, started: Any, status: str, error: str | None
) -> dict[str, Any]:
    scope, counts = sender.scope, sender.counts
    return {
        "push_id": scope.push_id,
        "run_id": scope.run_id,
        "sync_name": scope.sync_name,
        "partition": scope.partition,
        "destination": scope.destination or None,
        "entity": entity,
        "resend": sender.resend,
        "started_at": started,
        "finished_at": None if status == "running" else utc_now(),
        "status": status,
        "bodies_sent": counts.bodies_sent,
        "bodies_skipped": counts.bodies_skipped,
        "bodies_held": counts.bodies_held,
        "bodies_failed": counts.bodies_failed,
        "bodies_ambiguous": counts.bodies_ambiguous,
        "rows_sent": counts.rows_sent,
        "rows_skipped": counts.rows_skipped,
        "error": error,
    }
