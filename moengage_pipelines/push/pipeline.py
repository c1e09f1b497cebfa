"""``run_push``: source → prepare → dead letters → diff → pack → ledger → send → report.

Everything streams: one source batch is in memory at a time, bodies are handed to delivery
as they are packed, and delivery keeps only a few in flight. The delivery state is on unless
switched off (``ledger=None``): see ``moengage_pipelines.push.ledger.location``.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from moengage_pipelines.api.retries import RetryConfig, RetryPolicy
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.push.catalog.client import CatalogClient
from moengage_pipelines.push.catalog.push import run_catalog_push
from moengage_pipelines.push.catalog.state import CatalogState, WarehouseCatalogState
from moengage_pipelines.push.context import PushContext
from moengage_pipelines.push.dead_letters import DeadLetterSink, DeadLetterWriter
from moengage_pipelines.push.history import SyncRuns
from moengage_pipelines.push.history.cursor import cursor_window
from moengage_pipelines.push.ledger import PushLedger, default_resend, destination_of
from moengage_pipelines.push.ledger.location import default_state_url, open_state
from moengage_pipelines.push.mapping import CatalogMapping, EntityMapping, load_mapping
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.report import PushReport, RowsRejectedError
from moengage_pipelines.push.send.sender import TransitionClient
from moengage_pipelines.push.transition import run_transition_push
from moengage_pipelines.warehouse import Warehouse, WarehouseError

if TYPE_CHECKING:
    from moengage_pipelines.sources import Source, TimeWindow

__all__ = ["DEFAULT_STATE", "PushClient", "run_push"]

logger = logging.getLogger(__name__)


class _Default(Enum):
    STATE = "the default delivery state"


# The state named by MOENGAGE_STATE_URL, else the user's local state file.
DEFAULT_STATE = _Default.STATE


class PushClient(TransitionClient, CatalogClient, Protocol):
    """What a push needs from ``MoEngageClient``: its endpoints and the settings naming it."""

    settings: MoEngageSettings
    retry: RetryPolicy

    def with_retry(self, retry: RetryConfig | RetryPolicy) -> Self:
        """The same client (pool, budget, counters) retrying under another policy."""
        ...


@runtime_checkable
class DeadLetterStore(DeadLetterSink, Protocol):
    """Dead letters kept in a results warehouse (``DeadLetterWriter``).

    A push replaces the letters its sync, partition and source left before, and keeps the
    catalog state in the same warehouse unless it is given another.
    """

    warehouse: Warehouse

    def clear_partition(
        self, sync_name: str, partition: str | None, source: str | None = None
    ) -> None:
        """Delete the letters of one partition of a sync (of one source)."""
        ...


def run_push(
    source: Source,
    mapping: EntityMapping | dict[str, Any] | str | Path,
    client: PushClient | None,
    *,
    sync_name: str,
    partition: str | None = None,
    window: TimeWindow | None = None,
    dead_letters: DeadLetterStore | DeadLetterSink | _Default | None = DEFAULT_STATE,
    options: PushOptions | None = None,
    catalog_state: CatalogState | None = None,
    ledger: PushLedger | _Default | None = DEFAULT_STATE,
    run_id: str | None = None,
    since_last_run: bool = False,
) -> PushReport:
    """Push a source to MoEngage with a mapping.

    Args:
        source: Where rows come from (``moengage_pipelines.sources``).
        mapping: A mapping model, dict, YAML text or YAML path.
        client: A ``MoEngageClient`` (may be None for a dry run).
        sync_name: Name of the push, stored with dead letters, state and the report.
        partition: Partition key, stored with dead letters, state and the report.
        window: Only rows in this time window (the source's time column).
        dead_letters: Where rejected rows go (a ``DeadLetterWriter``); None only counts them.
            By default they go to the delivery state's warehouse. One that can
            ``clear_partition`` has the letters its sync, partition and source left before
            replaced (letters of other partitions and sources stay).
        options: Body limits, concurrency, dry run, resend policy, ...
        catalog_state: For catalog pushes, a ``CatalogState`` remembering catalog ids and
            pushed item ids (``WarehouseCatalogState``). MoEngage can neither look a catalog
            up by name nor list its items. Defaults to tables next to the dead letters when
            they are kept in a warehouse; with neither, a mapping without ``catalog_id``
            creates its catalog, and mirror mode is refused.
        ledger: The delivery state: every body sent is recorded per destination, so that a
            re-run of the partition sends only what MoEngage has not accepted (see
            ``options.resend``). By default, the state named by ``MOENGAGE_STATE_URL``, else
            a local file (``moengage_pipelines.push.ledger.location``); None switches it off:
            a re-run then resends everything and a lost answer cannot be told apart. Dry runs
            read it but never write to it.
        run_id: The run this push belongs to (stored with dead letters and state); a new id
            by default.
        since_last_run: Events without a partition: read the window from the end of the last
            ``ok`` run of this sync (``moengage_sync_runs``) minus ``options.lookback`` up to
            now; events already delivered inside the lookback are not sent again. Needs the
            delivery state and a source with a time column; ``window`` must be None.

    Returns:
        The report. Every valid row ends counted once: sent, skipped (delivered before), held
        (``resend="never"``) or failed; ``report.ok`` is True only when none failed or was held.

    Raises:
        MappingError: If the mapping does not fit the source (before any row is sent).
        StateError: If the delivery state cannot be opened.
        RowsRejectedError: If ``options.fail_on_rejects`` and rows were rejected.
    """
    options = options or PushOptions()
    mapping = load_mapping(mapping)
    if client is None and not options.dry_run:
        raise ValueError("a client is needed unless dry_run is set")
    with ExitStack() as stack:
        if ledger is DEFAULT_STATE or dead_letters is DEFAULT_STATE:
            state = stack.enter_context(
                open_state(default_state_url(), read_only=options.dry_run)
            )
            if ledger is DEFAULT_STATE:
                ledger = PushLedger(state) if state is not None else None
            if dead_letters is DEFAULT_STATE:
                # A dry run opens the state read-only: its rejects are counted, not stored.
                usable = state is not None and not options.dry_run
                dead_letters = DeadLetterWriter(state) if usable else None
        assert not isinstance(ledger, _Default) and not isinstance(dead_letters, _Default)
        destination = (
            destination_of(client.settings, mapping.entity) if client is not None else None
        )
        history = SyncRuns(ledger.warehouse) if ledger is not None else None
        if since_last_run:
            window = cursor_window(history, sync_name, destination, options, window)
        context = PushContext(
            sync_name=sync_name, partition=partition, window=window, cursor=since_last_run,
            source_name=source.describe(),
            run_id=run_id or (ledger.run_id if ledger is not None else None) or uuid.uuid4().hex,
            options=options, dead_letters=dead_letters, ledger=ledger,
            settings=client.settings if client is not None else None,
        )
        if isinstance(dead_letters, DeadLetterStore):
            # A re-run replaces what this partition of this sync left from this source.
            dead_letters.clear_partition(sync_name, partition, context.source_name)
        resend = options.resend or default_resend(mapping.entity)
        if client is not None and ledger is not None and resend == "never":
            # At most once: the client's own retries must not repeat a request MoEngage may
            # already have applied either; other retries (429, 5xx before applying) stay.
            client = client.with_retry(replace(client.retry.config, retry_ambiguous=False))
        if isinstance(mapping, CatalogMapping) and catalog_state is None and isinstance(
            dead_letters, DeadLetterStore
        ):
            # MoEngage cannot look a catalog up by name: its id is remembered here.
            catalog_state = WarehouseCatalogState(dead_letters.warehouse)
        started = datetime.now(UTC)
        report: PushReport | None = None
        try:
            if isinstance(mapping, CatalogMapping):
                report = run_catalog_push(source, mapping, client, context, catalog_state)
            else:
                report = run_transition_push(source, mapping, client, context)
        except BaseException as exc:
            if history is not None and not options.dry_run:
                _record(history, context, mapping.entity, destination, started, None, exc)
            raise
        if history is not None and not options.dry_run:
            _record(history, context, mapping.entity, destination, started, report, None)
    if options.fail_on_rejects and report.rows_rejected:
        raise RowsRejectedError(report)
    return report


def _record(
    history: SyncRuns, context: PushContext, entity: str, destination: str | None,
    started: datetime, report: PushReport | None, error: BaseException | None,
) -> None:
    """One row in ``moengage_sync_runs``; a failure to write it never hides the push's own."""
    try:
        history.record(
            sync_name=context.sync_name, entity=entity, started_at=started, report=report,
            error=error, destination=destination, partition=context.partition,
            window=context.window, run_id=context.run_id,
        )
    except WarehouseError:
        if error is None:
            raise
        logger.exception("could not record the end of sync %s", context.sync_name)
