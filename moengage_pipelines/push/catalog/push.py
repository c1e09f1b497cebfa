"""Catalog pushes: upsert items into the catalog, optionally mirror deletions.

MoEngage's catalog API is synchronous and answers each request with per-item counts, so the
push sends one body at a time (its rate limit, 100 requests a minute, makes concurrency
pointless):

1. the catalog is found or created, its missing attributes added and their types checked
   (``schema``), once the first batch shows the source's columns;
2. items are packed in bodies of at most 50 items and 5 MB and upserted (``upsert``): added,
   and those MoEngage reports as existing updated;
3. items MoEngage refuses become dead letters with the rule ``catalog_<error-id>``;
4. with the delivery state, only items that changed since MoEngage last stored them are sent
   (``moengage_pipelines.push.diff``); unchanged ones still count as present for mirror mode;
5. in mirror mode, items pushed before (known to the state) that are no longer in the source
   are deleted. MoEngage cannot list a catalog's items, so the state is what remembers them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from moengage_pipelines.limits import CATALOG_MAX_ITEMS
from moengage_pipelines.push.catalog.client import CatalogClient
from moengage_pipelines.push.catalog.schema import resolve_catalog
from moengage_pipelines.push.catalog.state import CatalogState
from moengage_pipelines.push.catalog.upsert import CatalogUpsert, CatalogUpsertSender
from moengage_pipelines.push.context import PushContext
from moengage_pipelines.push.dead_letters import DeadLetterBuffer
from moengage_pipelines.push.diff import DiffSync
from moengage_pipelines.push.diff.reread import reread_elements
from moengage_pipelines.push.diff.session import diff_sync, forget_deleted
from moengage_pipelines.push.ledger import destination_of, tracked
from moengage_pipelines.push.mapping import CatalogMapping, MappingError
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.pack.packer import BodyPacker, catalog_packer
from moengage_pipelines.push.prepare.elements import ValidElements, validated_elements
from moengage_pipelines.push.prepare.rules import Rule
from moengage_pipelines.push.prepare.serializer import ElementSerializer
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.push.send import (
    BodyOutcome,
    BodySender,
    DeliveryResult,
    DryRunSender,
    Outcome,
    count_unsent,
    deliver,
)
from moengage_pipelines.push.undelivered import write_held_letters, write_unsent_letter

if TYPE_CHECKING:
    from moengage_pipelines.sources import Source

__all__ = ["run_catalog_push"]


class _CatalogPush:
    """One catalog push: the catalog, the items seen and stored, and their dead letters."""

    def __init__(
        self,
        mapping: CatalogMapping,
        client: CatalogClient | None,
        report: PushReport,
        letters: DeadLetterBuffer,
        options: PushOptions,
        state: CatalogState | None,
    ) -> None:
        self.mapping = mapping
        self.client = client
        self.report = report
        self.letters = letters
        self.options = options
        self.state = state
        self.catalog_id: str | None = None
        self.seen: set[str] = set()
        self.stored: set[str] = set()
        self.update_requests = 0
        # Bodies added whose existing items could not be updated, and those items.
        self.failed_updates = 0
        self.failed_update_rows = 0
        # Source row of each id in flight, for dead letters of items MoEngage refuses.
        self.rows: dict[str, int] = {}
        # Items mirror mode deleted (their diff hashes are forgotten).
        self.deleted: set[str] = set()

    # -- items ----------------------------------------------------------------------------

    def unique(self, valid: ValidElements) -> ValidElements:
        """Drop items whose id appeared earlier in this push (``duplicate_item_id``)."""
        assert valid.keys is not None
        keys = valid.keys.to_pylist()
        sent = valid.elements.is_valid().to_numpy(zero_copy_only=False)
        duplicate = np.zeros(len(keys), dtype=bool)
        for index, key in enumerate(keys):
            if not sent[index]:
                continue
            if key in self.seen:
                duplicate[index] = True
            else:
                self.seen.add(key)
                self.rows[key] = valid.first_row + index
        if not duplicate.any():
            return valid
        self.letters.add_rows(
            valid.batch,
            np.flatnonzero(duplicate).tolist(),
            valid.first_row,
            self.mapping.id_column,
            lambda i: (
                Rule.DUPLICATE_ITEM_ID,
                self.mapping.id_column,
                "item id appears earlier in the source; only the first row is pushed",
            ),
        )
        self.report.rows_valid -= int(duplicate.sum())
        return valid.without(duplicate)

    def bodies(
        self,
        stream: Iterator[ValidElements],
        packer: BodyPacker,
        diff: DiffSync | None = None,
        reread: Callable[[], Iterator[ValidElements]] | None = None,
    ) -> Iterator[Body]:
        """The bodies of the validated, de-duplicated items (only changed ones with a diff)."""
        report = self.report
        if diff is not None and reread is not None:
            # Pass one hashes and decides; pass two reads again only the items to send.
            for _ in diff.scan(self.unique(valid) for valid in stream):
                pass
            report.take_diff(diff.decide())
            for keys in diff.unchanged_keys():
                # Unchanged items are in the catalog: mirror mode must keep them.
                self.stored.update(keys)
                for key in keys:
                    self.rows.pop(key, None)
            chosen = reread() if diff.counts.to_send else iter(())
            stream = (diff.select(valid) for valid in chosen)
        else:
            stream = (self.unique(valid) for valid in stream)
        for valid in stream:
            for body in packer.pack(valid.elements, valid.first_row):
                report.largest_body_bytes = max(report.largest_body_bytes, body.size)
                yield body if diff is None else diff.assign(body)
        for body in packer.flush():
            report.largest_body_bytes = max(report.largest_body_bytes, body.size)
            yield body if diff is None else diff.assign(body)

    def on_outcome(self, outcome: BodyOutcome) -> None:
        """Count one body's items and write dead letters for those not stored."""
        items: list[dict[str, Any]] = orjson.loads(outcome.body.payload)["items"]
        ids = [str(item["id"]) for item in items]
        if outcome.outcome is Outcome.SKIPPED:
            self.stored.update(ids)  # delivered by an earlier push
        elif outcome.outcome is Outcome.SENT and isinstance(outcome.answer, CatalogUpsert):
            self._count_upsert(outcome.answer)
        elif outcome.outcome is Outcome.SENT:
            self.report.items_sent += len(items)  # a dry run: what would be sent
            self.stored.update(ids)
        elif outcome.outcome is Outcome.FAILED:
            status = outcome.status or "no answer"
            self._fail(items, f"MoEngage answered {status}: {outcome.message}")
        for item_id in ids:
            self.rows.pop(item_id, None)

    def _count_upsert(self, upsert: CatalogUpsert) -> None:
        report = self.report
        by_id = {str(item["id"]): item for item in upsert.items}
        refused = self._refuse(by_id, upsert.added.refused, upsert.added.unnamed_refusals)
        new = [item_id for item_id in by_id if item_id not in upsert.updated_ids]
        stored = [item_id for item_id in new if item_id not in refused]
        if upsert.updated_ids:
            self.update_requests += 1
        if upsert.update_failure is not None:
            self.failed_updates += 1
            self.failed_update_rows += len(upsert.updated_ids)
            self._fail([by_id[item_id] for item_id in upsert.updated_ids], upsert.update_failure)
        elif upsert.updated is not None:
            refused_updates = self._refuse(
                by_id, upsert.updated.refused, upsert.updated.unnamed_refusals
            )
            updated = [i for i in upsert.updated_ids if i not in refused_updates]
            report.items_updated += len(updated)
            stored += updated
        report.items_sent += len(stored)
        self.stored.update(stored)

    def _refuse(self, by_id: dict[str, Any], refused: dict[str, Any], unnamed: int) -> set[str]:
        """Dead letters for items MoEngage refused; returns their ids."""
        named = {item_id for item_id in refused if item_id in by_id}
        for item_id in named:
            refusal = refused[item_id]
            item = by_id[item_id]
            self.letters.add(
                rule=refusal.rule, column=None, message=refusal.message,
                row=orjson.dumps(item).decode(), row_key=item_id,
                row_number=self.rows.get(item_id, -1),
            )
            self.report.rows_valid -= 1
        self.report.items_invalid += len(named) + unnamed
        return named

    def _fail(self, items: list[dict[str, Any]], message: str) -> None:
        for item in items:
            item_id = str(item["id"])
            self.letters.add(
                rule="delivery_failed", column=None, message=message,
                row=orjson.dumps(item).decode(), row_key=item_id,
                row_number=self.rows.get(item_id, -1), counted=False,
            )

    def take_delivery(self, result: DeliveryResult) -> None:
        """Bring the delivery's totals into the report (item counts come from the answers)."""
        report = self.report
        report.take_delivery(result, sent=False)
        report.bodies = result.bodies_sent + self.update_requests
        report.bytes_sent = result.bytes_sent
        report.failed_bodies += self.failed_updates
        report.failed_rows += self.failed_update_rows

    # -- mirror ---------------------------------------------------------------------------

    def mirror(self) -> None:
        """Delete items pushed before that the source no longer has."""
        if self.state is None:
            raise MappingError("mirror mode needs a catalog state that remembers pushed ids")
        if self.catalog_id is None and not self.options.dry_run:
            return  # the source was empty and the catalog unknown: nothing to compare
        catalog_id = self.catalog_id or self.mapping.catalog_id or self.state.catalog_id(
            self.mapping.catalog
        )
        if catalog_id is None:
            return
        previous = self.state.item_ids(catalog_id)
        if self.report.failed_bodies:
            # Some items may not be in the catalog; deleting on a partial picture is unsafe.
            self.state.replace_item_ids(catalog_id, previous | self.stored)
            return
        gone = sorted(previous - self.seen)
        if self.options.dry_run or self.client is None:
            self.report.items_deleted = len(gone)
            return
        deleted: set[str] = set()
        for start in range(0, len(gone), CATALOG_MAX_ITEMS):
            chunk = gone[start : start + CATALOG_MAX_ITEMS]
            self.client.delete_catalog_items(catalog_id, chunk)
            self.report.bodies += 1
            # Ids MoEngage no longer had count as invalid; either way they are gone.
            deleted.update(chunk)
        self.report.items_deleted = len(deleted)
        self.state.replace_item_ids(catalog_id, (previous - deleted) | self.stored)
        self.deleted = deleted


def run_catalog_push(
    source: Source,
    mapping: CatalogMapping,
    client: CatalogClient | None,
    context: PushContext,
    state: CatalogState | None,
) -> PushReport:
    """Push a source into a catalog (see the module docstring); called by ``run_push``."""
    options = context.options
    if mapping.mirror and context.window is not None:
        raise MappingError("mirror mode needs the whole source; do not pass a time window")
    if mapping.mirror and state is None:
        raise MappingError("mirror mode needs a catalog state that remembers pushed ids")
    report = context.new_report("catalog", options.catalog_max_body_bytes)
    letters = context.letters(report)
    packer = catalog_packer(options.catalog_max_body_bytes)
    push = _CatalogPush(mapping, client, report, letters, options, state)
    destination = None

    def progress(_: object = None) -> None:
        context.progress(report)

    with ElementSerializer(
        mapping, now=options.now, threads=options.threads, with_keys=True
    ) as serializer:
        stream = validated_elements(
            source, serializer, window=context.window, batch_rows=options.batch_rows,
            max_element_bytes=packer.max_element_bytes(), report=report, letters=letters,
            on_batch=progress,
        )
        first = next(stream, None)
        if first is not None:
            # The catalog is resolved once the first batch shows the source's columns.
            push.catalog_id = resolve_catalog(
                mapping, first.batch.schema, client, state, dry_run=options.dry_run
            )
            inner: BodySender = (
                DryRunSender() if options.dry_run or client is None
                else CatalogUpsertSender(client, push.catalog_id or "")
            )
            if context.settings is not None and push.catalog_id is not None:
                destination = destination_of(context.settings, "catalog", push.catalog_id)
            with (
                diff_sync(
                    context.ledger, entity="catalog", sync_name=context.sync_name,
                    destination=destination, full=options.full, read_only=options.dry_run,
                ) as diff,
                tracked(
                    inner, context.ledger, sync_name=context.sync_name,
                    partition=context.partition, destination=destination, entity="catalog",
                    resend=options.resend, read_only=options.dry_run, run_id=context.run_id,
                    skip_delivered=diff is None,
                ) as sender,
            ):
                bodies = push.bodies(
                    itertools.chain([first], stream), packer, diff,
                    reread=lambda: reread_elements(
                        source, mapping, packer, context, context.options.catalog_max_body_bytes
                    ),
                )

                def on_outcome(outcome: BodyOutcome) -> None:
                    push.on_outcome(outcome)
                    if diff is not None:
                        diff.on_outcome(outcome)

                result = deliver(
                    bodies, sender, concurrency=1, on_outcome=on_outcome,
                    on_progress=progress, fail_fast=options.fail_fast,
                )
                if result.stopped:
                    count_unsent(bodies, result)
            push.take_delivery(result)
            write_held_letters(letters, result)
            write_unsent_letter(letters, result)
    if mapping.mirror:
        push.mirror()
        if push.deleted and context.ledger is not None and destination is not None:
            forget_deleted(context.ledger, context.sync_name, destination, sorted(push.deleted))
    letters.flush()
    progress()
    return report
