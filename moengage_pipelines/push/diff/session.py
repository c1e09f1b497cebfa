"""``diff_sync``: the diff stage of one push, opened on the delivery state's store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from moengage_pipelines.push.diff.stage import DiffSync
from moengage_pipelines.push.diff.store import RowHashes, last_destination
from moengage_pipelines.push.ledger import PushLedger

if TYPE_CHECKING:
    from moengage_pipelines.sources import TimeWindow

__all__ = ["DIFFED_ENTITIES", "diff_sync", "forget_deleted"]

# Upserts: a row identical to the confirmed one changes nothing at MoEngage.
DIFFED_ENTITIES = ("users", "catalog")


@contextmanager
def diff_sync(
    ledger: PushLedger | None,
    *,
    entity: str,
    sync_name: str,
    destination: str | None,
    full: bool,
    read_only: bool,
    push_id: str | None = None,
    window: TimeWindow | None = None,
) -> Iterator[DiffSync | None]:
    """The diff stage of a push, or None when it has none.

    Users and catalog items are diffed whenever the delivery state is on; events only with a
    cursor ``window`` (``since_last_run``): identical events already delivered inside the
    lookback are not sent again, and hashes of windows that ended before this one starts
    are pruned.

    Args:
        ledger: The delivery state (its warehouse keeps the hashes); None: no diff.
        entity: ``users``, ``catalog`` or ``events``.
        sync_name: The sync.
        destination: Where the rows go; None (a dry run without a client) compares with the
            destination this sync confirmed rows at most recently.
        full: Send every row and refresh the hashes.
        read_only: A dry run: classify, write nothing.
        push_id: This push (defaults to a new id).
        window: For events, the cursor window read.
    """
    events = entity == "events"
    if ledger is None or (entity not in DIFFED_ENTITIES and not (events and window)):
        yield None
        return
    warehouse = ledger.warehouse
    if destination is None:
        destination = last_destination(warehouse, sync_name)
    hashes = None
    if destination is not None:
        hashes = RowHashes(
            warehouse, sync_name=sync_name, destination=destination, entity=entity,
            read_only=read_only,
        )
        if events and window is not None:
            hashes.prune(window.start)
    with DiffSync(
        hashes, push_id=push_id or uuid.uuid4().hex, full=full, key_is_hash=events,
        window_end=None if window is None else window.end,
    ) as diff:
        yield diff


def forget_deleted(
    ledger: PushLedger, sync_name: str, destination: str, keys: list[str]
) -> None:
    """Forget the hashes of items a catalog mirror deleted: back in the source, they are new."""
    hashes = RowHashes(
        ledger.warehouse, sync_name=sync_name, destination=destination, entity="catalog"
    )
    try:
        hashes.forget_keys(keys)
    finally:
        hashes.close()
