"""``run_push``: source -> validation -> dead letters -> serialization -> packing -> delivery.

Everything streams: one source batch is in memory at a time, bodies are handed to delivery
as they are packed, and delivery keeps only a few in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from moengage_pipelines.errors import MoEngageError
from moengage_pipelines.limits import CATALOG_MAX_BYTES, TRANSITION_MAX_BYTES
from moengage_pipelines.push.body import Body
from moengage_pipelines.push.mapping import CatalogMapping, EventMapping, UserMapping, load_mapping
from moengage_pipelines.push.packing import BodyPacker, transition_packer
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.push.serialization import ElementSerializer
from moengage_pipelines.push.state import RESEND_POLICIES, ResendPolicy, track_push
from moengage_pipelines.push.stream import DeadLetterBuffer, DeadLetterSink, validated_elements

if TYPE_CHECKING:
    from moengage_pipelines.push.delivery import DeliveryResult
    from moengage_pipelines.push.state import PushLedger
    from moengage_pipelines.sources.base import Source, TimeWindow

__all__ = ["PushOptions", "RowsRejectedError", "run_push"]

DEFAULT_BATCH_ROWS = 65_536
DELIVERY_FAILED = "delivery_failed"


@dataclass(frozen=True)
class PushOptions:
    """How a push runs.

    Attributes:
        max_body_bytes: Largest bulk-import body (MoEngage: 100 KB).
        catalog_max_body_bytes: Largest catalog items body (MoEngage: 5 MB).
        batch_rows: Rows read from the source at a time (bounds memory).
        concurrency: Requests in flight at once.
        dry_run: Read, validate, serialize and pack, but send nothing.
        fail_on_rejects: Raise ``RowsRejectedError`` at the end if any row was rejected.
        fail_fast: Stop sending after the first body MoEngage refuses.
        now: The present, for the future-event rule (defaults to the current time).
        on_progress: Called with the running report after each batch and each sent body.
        threads: Threads for serialization (default: every core).
        resend: With a push ledger, what to do with bodies MoEngage may already have applied:
            ``never`` (events' default: at most once), ``ambiguous`` (users' and catalogs'
            default: resend them) or ``always`` (resend every body, sent ones too). See
            ``moengage_pipelines.push.state``.
    """

    max_body_bytes: int = TRANSITION_MAX_BYTES
    catalog_max_body_bytes: int = CATALOG_MAX_BYTES
    batch_rows: int = DEFAULT_BATCH_ROWS
    concurrency: int = 4
    dry_run: bool = False
    fail_on_rejects: bool = False
    fail_fast: bool = False
    now: datetime | None = None
    on_progress: Callable[[PushReport], None] | None = None
    threads: int | None = None
    resend: ResendPolicy | None = None

    def __post_init__(self) -> None:
        if self.resend is not None and self.resend not in RESEND_POLICIES:
            raise ValueError(
                f"resend must be one of {', '.join(RESEND_POLICIES)}, got {self.resend!r}"
            )
        if self.max_body_bytes < 100:
            raise ValueError(f"max_body_bytes must be at least 100, got {self.max_body_bytes}")
        if self.batch_rows < 1:
            raise ValueError(f"batch_rows must be positive, got {self.batch_rows}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be positive, got {self.concurrency}")


class RowsRejectedError(MoEngageError):
    """Rows were rejected and ``fail_on_rejects`` was set; the push itself completed.

    Attributes:
        report: The report of the push.
    """

    def __init__(self, report: PushReport) -> None:
        self.report = report
        rules = ", ".join(f"{rule}={count}" for rule, count in report.rejected_by_rule.items())
        super().__init__(
            f"{report.rows_rejected} of {report.rows_read} rows rejected ({rules}); "
            "see the dead letters"
        )


def run_push(
    source: Source,
    mapping: UserMapping | EventMapping | CatalogMapping | dict[str, Any] | str | Path,
    client: Any,
    *,
    sync_name: str,
    partition: str | None = None,
    window: TimeWindow | None = None,
    dead_letters: DeadLetterSink | None = None,
    options: PushOptions | None = None,
    catalog_state: Any = None,
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
        options: Body limits, concurrency, dry run, ...
        catalog_state: For catalog pushes, a ``CatalogState`` remembering catalog ids and
            pushed item ids (needed for mirror mode). Defaults to tables in the warehouse
            the dead letters go to, when there is one.
        ledger: A ``PushLedger`` recording every body sent, so that a re-run of the partition
            skips what MoEngage already accepted (see ``options.resend``). Dry runs read it
            but never write to it.

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
    clear = getattr(dead_letters, "clear_partition", None)
    if clear is not None:
        # A re-run of a partition replaces its dead letters instead of adding to them.
        clear(sync_name, partition)
    if isinstance(mapping, CatalogMapping):
        from moengage_pipelines.push.catalog import run_catalog_push
        from moengage_pipelines.push.catalog_state import WarehouseCatalogState

        results = getattr(dead_letters, "warehouse", None)
        if catalog_state is None and results is not None:
            # MoEngage cannot look a catalog up by name: its id must be remembered somewhere.
            catalog_state = WarehouseCatalogState(results)
        with track_push(
            ledger, sync_name=sync_name, partition=partition, entity="catalog",
            resend=options.resend, client=client, dead_letters=dead_letters,
            dry_run=options.dry_run,
        ) as tracked:
            report = run_catalog_push(
                source, mapping, tracked.client, sync_name=sync_name, partition=partition,
                window=window, dead_letters=dead_letters, options=options, state=catalog_state,
            )
            tracked.apply(report)
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
    client: Any,
    *,
    sync_name: str,
    partition: str | None,
    window: TimeWindow | None,
    dead_letters: DeadLetterSink | None,
    options: PushOptions,
    ledger: PushLedger | None = None,
) -> PushReport:
    started = time.perf_counter()
    report = PushReport(
        sync_name=sync_name,
        entity=mapping.entity,
        partition=partition,
        dry_run=options.dry_run,
        max_body_bytes=options.max_body_bytes,
    )
    letters = DeadLetterBuffer(report, dead_letters, sync_name=sync_name, partition=partition)
    packer = transition_packer(mapping.entity, options.max_body_bytes)

    def progress() -> None:
        report.duration_seconds = time.perf_counter() - started
        if options.on_progress is not None:
            options.on_progress(report)

    with (
        track_push(
            ledger, sync_name=sync_name, partition=partition, entity=mapping.entity,
            resend=options.resend, client=client, dead_letters=dead_letters,
            dry_run=options.dry_run,
        ) as tracked,
        ElementSerializer(mapping, now=options.now, threads=options.threads) as serializer,
    ):
        # The ledger drops bodies MoEngage already accepted and records the rest as sent.
        bodies = tracked.filter(_packed_bodies(
            source, serializer, packer, window=window, options=options, report=report,
            letters=letters, on_batch=progress,
        ))
        if options.dry_run:
            for body in bodies:
                _count_sent(report, body)
        else:
            _deliver(bodies, tracked.client, report, letters, options, progress)
        tracked.apply(report)
    report.duration_seconds = time.perf_counter() - started
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
        source,
        serializer,
        window=window,
        batch_rows=options.batch_rows,
        max_element_bytes=packer.max_element_bytes(),
        report=report,
        letters=letters,
        on_batch=on_batch,
    )
    for valid in stream:
        for body in packer.pack(valid.elements, valid.first_row):
            report.largest_body_bytes = max(report.largest_body_bytes, body.size)
            yield body
    for body in packer.flush():
        report.largest_body_bytes = max(report.largest_body_bytes, body.size)
        yield body


def _count_sent(report: PushReport, body: Body) -> None:
    report.bodies += 1
    report.bytes_sent += body.size
    report.users_sent += body.users
    report.events_sent += body.events
    report.items_sent += body.items


def _deliver(
    bodies: Iterator[Body],
    client: Any,
    report: PushReport,
    letters: DeadLetterBuffer,
    options: PushOptions,
    progress: Callable[[], None],
) -> None:
    from moengage_pipelines.push.delivery import deliver

    def on_progress(result: DeliveryResult) -> None:
        _apply_delivery(report, result)
        progress()

    result = deliver(
        bodies, client, concurrency=options.concurrency, on_progress=on_progress,
        fail_fast=options.fail_fast,
    )
    _apply_delivery(report, result)
    for failure in result.failures:
        # The rows of a refused body are not kept; one letter records the whole range.
        letters.add(
            rule=DELIVERY_FAILED,
            column=None,
            message=(
                f"MoEngage did not accept a body of {failure.elements} elements starting at "
                f"row {failure.first_row}: {failure.status or 'no response'} {failure.message}"
            ),
            row=orjson.dumps(
                {
                    "first_row": failure.first_row,
                    "elements": failure.elements,
                    "status": failure.status,
                    "ambiguous": failure.ambiguous,
                }
            ).decode(),
            row_key=None,
            row_number=failure.first_row,
            counted=False,  # reported as failed rows, not as validation rejects
        )
    letters.flush()


def _apply_delivery(report: PushReport, result: DeliveryResult) -> None:
    report.bodies = result.bodies_sent
    report.bytes_sent = result.bytes_sent
    report.users_sent = result.users_sent
    report.events_sent = result.events_sent
    report.items_sent = result.items_sent
    report.retries = result.retries
    report.http_429 = result.http_429
    report.splits = result.splits_413 + result.splits_budget
    report.failed_bodies = len(result.failures)
    report.failed_rows = result.failed_elements
    report.budget_wait_seconds = result.budget_wait_seconds
