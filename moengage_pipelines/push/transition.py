"""Users and events: bulk-import pushes, from source rows to delivered bodies.

The stages in order: ``prepare`` (validated elements; rejects → dead letters) → ``diff``
(users, and events with a cursor: only rows MoEngage has not confirmed) → ``pack`` →
``ledger`` (skip or hold what earlier pushes delivered, record the rest) → ``send``
(concurrent delivery) → the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from moengage_pipelines.push.context import PushContext
from moengage_pipelines.push.dead_letters import DeadLetterBuffer
from moengage_pipelines.push.diff import DiffSync
from moengage_pipelines.push.diff.reread import reread_elements
from moengage_pipelines.push.diff.session import diff_sync
from moengage_pipelines.push.ledger import destination_of, tracked
from moengage_pipelines.push.mapping import EventMapping, UserMapping
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.pack.packer import BodyPacker, transition_packer
from moengage_pipelines.push.prepare.elements import ValidElements, validated_elements
from moengage_pipelines.push.prepare.serializer import ElementSerializer
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.push.send import (
    BodySender,
    DeliveryResult,
    DryRunSender,
    TransitionSender,
    count_unsent,
    deliver,
)
from moengage_pipelines.push.send.sender import TransitionClient
from moengage_pipelines.push.undelivered import write_undelivered_letters

if TYPE_CHECKING:
    from moengage_pipelines.sources import Source

__all__ = ["run_transition_push"]


def run_transition_push(
    source: Source,
    mapping: UserMapping | EventMapping,
    client: TransitionClient | None,
    context: PushContext,
) -> PushReport:
    """Push users or events (see the module docstring); called by ``run_push``."""
    options = context.options
    report = context.new_report(mapping.entity, options.max_body_bytes)
    letters = context.letters(report)
    packer = transition_packer(mapping.entity, options.max_body_bytes)

    def progress(result: DeliveryResult | None = None) -> None:
        if result is not None:
            report.take_delivery(result)
        context.progress(report)

    inner: BodySender = (
        DryRunSender() if options.dry_run or client is None else TransitionSender(client)
    )
    destination = None
    if context.settings is not None:
        destination = destination_of(context.settings, mapping.entity)
    with (
        diff_sync(
            context.ledger, entity=mapping.entity, sync_name=context.sync_name,
            destination=destination, full=options.full, read_only=options.dry_run,
            window=context.window if context.cursor else None,
        ) as diff,
        ElementSerializer(
            mapping, now=options.now, threads=options.threads, with_keys=diff is not None
        ) as serializer,
        tracked(
            inner, context.ledger, sync_name=context.sync_name, partition=context.partition,
            destination=destination, entity=mapping.entity, resend=options.resend,
            read_only=options.dry_run, run_id=context.run_id, skip_delivered=diff is None,
        ) as sender,
    ):
        bodies = _packed_bodies(
            source, serializer, packer, context, report, letters, progress, diff,
            reread=lambda: reread_elements(
                source, mapping, packer, context, context.options.max_body_bytes
            ),
        )
        result = deliver(
            bodies, sender, concurrency=1 if options.dry_run else options.concurrency,
            on_progress=progress, fail_fast=options.fail_fast,
            on_outcome=None if diff is None else diff.on_outcome,
        )
        if result.stopped:
            count_unsent(bodies, result)
        if diff is not None:
            report.take_diff(diff.counts)
    report.take_delivery(result)
    write_undelivered_letters(letters, result)
    letters.flush()
    context.progress(report)
    return report


def _packed_bodies(
    source: Source,
    serializer: ElementSerializer,
    packer: BodyPacker,
    context: PushContext,
    report: PushReport,
    letters: DeadLetterBuffer,
    on_batch: Callable[[], None],
    diff: DiffSync | None,
    reread: Callable[[], Iterator[ValidElements]],
) -> Iterator[Body]:
    stream = validated_elements(
        source, serializer, window=context.window, batch_rows=context.options.batch_rows,
        max_element_bytes=packer.max_element_bytes(), report=report, letters=letters,
        on_batch=on_batch,
    )
    if diff is not None:
        # Pass one hashes and decides; pass two reads again only if anything is to be sent.
        for _ in diff.scan(stream):
            pass
        report.take_diff(diff.decide())
        on_batch()
        chosen = reread() if diff.counts.to_send else iter(())
        stream = (diff.select(valid) for valid in chosen)
    for valid in stream:
        for body in packer.pack(valid.elements, valid.first_row):
            report.largest_body_bytes = max(report.largest_body_bytes, body.size)
            yield body if diff is None else diff.assign(body)
    for body in packer.flush():
        report.largest_body_bytes = max(report.largest_body_bytes, body.size)
        yield body if diff is None else diff.assign(body)
