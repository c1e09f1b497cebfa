"""``run_push``: source → prepare → dead letters → pack → ledger → send → report.

Everything streams: one source batch is in memory at a time, bodies are handed to delivery
as they are packed, and delivery keeps only a few in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from moengage_pipelines.api.retries import RetryConfig, RetryPolicy
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.push.catalog.client import CatalogClient
from moengage_pipelines.push.catalog.push import run_catalog_push
from moengage_pipelines.push.catalog.state import CatalogState, WarehouseCatalogState
from moengage_pipelines.push.dead_letters import DeadLetterBuffer, DeadLetterSink
from moengage_pipelines.push.ledger import PushLedger, default_resend, destination_of, tracked
from moengage_pipelines.push.mapping import (
    CatalogMapping,
    EntityMapping,
    EventMapping,
    UserMapping,
    load_mapping,
)
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.pack.packer import BodyPacker, transition_packer
from moengage_pipelines.push.prepare.elements import validated_elements
from moengage_pipelines.push.prepare.serializer import ElementSerializer
from moengage_pipelines.push.report import PushReport, RowsRejectedError
from moengage_pipelines.push.send import (
    BodySender,
    DeliveryResult,
    DryRunSender,
    TransitionSender,
    deliver,
)
from moengage_pipelines.push.send.sender import TransitionClient
from moengage_pipelines.push.undelivered import write_failed_letters, write_held_letters
from moengage_pipelines.warehouse import Warehouse

if TYPE_CHECKING:
    from moengage_pipelines.sources import Source, TimeWindow

__all__ = ["PushClient", "run_push"]


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

    A push replaces the partition's earlier letters, and keeps the catalog state in the same
    warehouse unless it is given another.
    """

    warehouse: Warehouse

    def clear_partition(self, sync_name: str, partition: str | None) -> None:
        """Delete the letters of one partition of a sync."""
        ...


def run_push(
    source: Source,
    mapping: EntityMapping | dict[str, Any] | str | Path,
    client: PushClient | None,
    *,
    sync_name: str,
    partition: str | None = None,
    window: TimeWindow | None = None,
    dead_letters: DeadLetterStore | DeadLetterSink | None = None,
    options: PushOptions | None = None,
    catalog_state: CatalogState | None = None,
    ledger: PushLedger | None = None,
) -> PushReport:
    """Push a source to MoEngage with a mapping.

    Args:
        source: Where rows come from (``moengage_pipelines.sources``).
        mapping: A mapping model, dict, YAML text or YAML path.
        client: A ``MoEngageClient`` (may be None for a dry run).
        sync_name: Name of the push, stored with dead letters and in the report.
        partition: Partition key, stored with dead letters and in the report.
        window: Only rows in this time window (the source's time column).
        dead_letters: Where rejected rows go (a ``DeadLetterWriter``); None only counts them.
            One that can ``clear_partition`` has the partition's earlier letters replaced.
        options: Body limits, concurrency, dry run, ...
        catalog_state: For catalog pushes, a ``CatalogState`` remembering catalog ids and
            pushed item ids (``WarehouseCatalogState``). MoEngage can neither look a catalog
            up by name nor list its items. Defaults to tables next to the dead letters when
            they are kept in a warehouse; with neither, a mapping without ``catalog_id``
            creates its catalog, and mirror mode is refused.
        ledger: The delivery state: every body sent is recorded, so that a re-run of the
            partition skips what MoEngage already accepted (see ``options.resend``). Dry runs
            read it but never write to it.

    Returns:
        The report (also when bodies failed: see ``report.failed_bodies``).

    Raises:
        MappingError: If the mapping does not fit the source (before any row is sent).
        RowsRejectedError: If ``options.fail_on_rejects`` and rows were rejected.
    """
    options = options or PushOptions()
    mapping = load_mapping(mapping)
    if client is None and not options.dry_run:
        raise ValueError("a client is needed unless dry_run is set")
    if isinstance(dead_letters, DeadLetterStore):
        # A re-run of a partition replaces its dead letters instead of adding to them.
        dead_letters.clear_partition(sync_name, partition)
    settings = client.settings if client is not None else None
    resend = options.resend or default_resend(mapping.entity)
    if client is not None and ledger is not None and resend == "never":
        # At most once: the client's own retries must not repeat a request MoEngage may
        # already have applied either; other retries (429, 5xx before applying) stay.
        client = client.with_retry(replace(client.retry.config, retry_ambiguous=False))
    if isinstance(mapping, CatalogMapping):
        if catalog_state is None and isinstance(dead_letters, DeadLetterStore):
            # MoEngage cannot look a catalog up by name: its id must be remembered somewhere.
            catalog_state = WarehouseCatalogState(dead_letters.warehouse)
        report = run_catalog_push(
            source, mapping, client, settings=settings, sync_name=sync_name,
            partition=partition, window=window, dead_letters=dead_letters, options=options,
            state=catalog_state,
            ledger=ledger,
        )
    else:
        report = _run_transition_push(
            source, mapping, client, sync_name=sync_name, partition=partition, window=window,
            dead_letters=dead_letters, options=options, ledger=ledger,
        )
    if options.fail_on_rejects and report.rows_rejected:
        raise RowsRejectedError(report)
    return report


def _run_transition_push(
    source: Source,
    mapping: UserMapping | EventMapping,
    client: PushClient | None,
    *,
    sync_name: str,
    partition: str | None,
    window: TimeWindow | None,
    dead_letters: DeadLetterSink | None,
    options: PushOptions,
    ledger: PushLedger | None,
) -> PushReport:
    started = time.perf_counter()
    report = PushReport(
        sync_name=sync_name, entity=mapping.entity, partition=partition,
        dry_run=options.dry_run, max_body_bytes=options.max_body_bytes,
    )
    letters = DeadLetterBuffer(report, dead_letters, sync_name=sync_name, partition=partition)
    packer = transition_packer(mapping.entity, options.max_body_bytes)

    def progress(result: DeliveryResult | None = None) -> None:
        if result is not None:
            _apply(report, result)
        report.duration_seconds = time.perf_counter() - started
        if options.on_progress is not None:
            options.on_progress(report)

    inner: BodySender = (
        DryRunSender() if options.dry_run or client is None else TransitionSender(client)
    )
    destination = None if client is None else destination_of(client.settings, mapping.entity)
    with (
        ElementSerializer(mapping, now=options.now, threads=options.threads) as serializer,
        tracked(
            inner, ledger, sync_name=sync_name, partition=partition, destination=destination,
            entity=mapping.entity, resend=options.resend, read_only=options.dry_run,
        ) as sender,
    ):
        bodies = _packed_bodies(
            source, serializer, packer, window=window, options=options, report=report,
            letters=letters, on_batch=progress,
        )
        result = deliver(
            bodies, sender, concurrency=1 if options.dry_run else options.concurrency,
            on_progress=progress, fail_fast=options.fail_fast,
        )
    _apply(report, result)
    write_failed_letters(letters, result)
    write_held_letters(letters, result)
    letters.flush()
    progress()
    return report


def _packed_bodies(
    source: Source,
    serializer: ElementSerializer,
    packer: BodyPacker,
    *,
    window: TimeWindow | None,
    options: PushOptions,
    report: PushReport,
    letters: DeadLetterBuffer,
    on_batch: Callable[[], None],
) -> Iterator[Body]:
    stream = validated_elements(
        source, serializer, window=window, batch_rows=options.batch_rows,
        max_element_bytes=packer.max_element_bytes(), report=report, letters=letters,
        on_batch=on_batch,
    )
    for valid in stream:
        for body in packer.pack(valid.elements, valid.first_row):
            report.largest_body_bytes = max(report.largest_body_bytes, body.size)
            yield body
    for body in packer.flush():
        report.largest_body_bytes = max(report.largest_body_bytes, body.size)
        yield body


def _apply(report: PushReport, result: DeliveryResult) -> None:
    """Bring the delivery's running totals into the report."""
    report.bodies = result.bodies_sent
    report.bytes_sent = result.bytes_sent
    report.users_sent = result.users_sent
    report.events_sent = result.events_sent
    report.items_sent = result.items_sent
    report.bodies_skipped = result.bodies_skipped
    report.rows_skipped = result.rows_skipped
    report.bodies_held = result.bodies_held
    report.rows_held = result.rows_held
    report.retries = result.retries
    report.http_429 = result.http_429
    report.splits = result.splits_413 + result.splits_budget
    report.failed_bodies = len(result.failures)
    report.failed_rows = result.failed_elements
    report.budget_wait_seconds = result.budget_wait_seconds
