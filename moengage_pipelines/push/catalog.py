"""Catalog pushes: upsert items into the catalog, optionally mirror deletions.

MoEngage's catalog API is synchronous and answers each request with per-item counts, so the
push works request by request (its rate limit, 100 requests a minute, makes concurrency
pointless):

1. the catalog is found or created, its missing attributes added and their types checked
   (``moengage_pipelines.push.catalog_schema``);
2. items are added (``POST items``) in bodies of at most 50 items and 5 MB; items MoEngage
   reports as ``duplicate-item-ids`` already exist and are updated (``PATCH items``);
3. items MoEngage reports invalid become dead letters with the rule ``catalog_<error-id>``;
4. in mirror mode, items pushed before (known to the state) that are no longer in the source
   are deleted. MoEngage cannot list a catalog's items, so the state is what remembers them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import pyarrow as pa

from moengage_pipelines.errors import AuthError, MoEngageHTTPError
from moengage_pipelines.limits import CATALOG_MAX_ITEMS
from moengage_pipelines.push.body import Body
from moengage_pipelines.push.catalog_schema import resolve_catalog
from moengage_pipelines.push.catalog_state import CatalogState
from moengage_pipelines.push.mapping import CatalogMapping, MappingError
from moengage_pipelines.push.packing import catalog_packer
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.push.serialization import ElementSerializer
from moengage_pipelines.push.stream import (
    DeadLetterBuffer,
    DeadLetterSink,
    ValidElements,
    validated_elements,
)
from moengage_pipelines.push.validation import Rule

if TYPE_CHECKING:
    from moengage_pipelines.push.pipeline import PushOptions
    from moengage_pipelines.sources.base import Source, TimeWindow

__all__ = ["run_catalog_push"]

DUPLICATE_ITEM_IDS = "duplicate-item-ids"


class _CatalogPush:
    """One catalog push: resolves the catalog lazily, sends bodies one by one."""

    def __init__(
        self,
        mapping: CatalogMapping,
        client: Any,
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
        self.resolved = False
        self.seen: set[str] = set()
        self.stored: set[str] = set()
        # Source row of each id in flight, for dead letters of items MoEngage refuses.
        self.rows: dict[str, int] = {}

    # -- catalog --------------------------------------------------------------------------

    def resolve(self, schema: pa.Schema) -> None:
        if self.resolved:
            return
        self.catalog_id = resolve_catalog(
            self.mapping, schema, self.client, self.state, dry_run=self.options.dry_run
        )
        self.resolved = True

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

    def send(self, body: Body) -> None:
        report = self.report
        report.largest_body_bytes = max(report.largest_body_bytes, body.size)
        items = orjson.loads(body.payload)["items"]
        if self.options.dry_run:
            report.bodies += 1
            report.bytes_sent += body.size
            report.items_sent += body.items
            self.stored.update(str(item["id"]) for item in items)
            return
        from moengage_pipelines.api.counters import RequestTrace

        trace = RequestTrace()
        try:
            answer = self.client.add_catalog_items(self.catalog_id, body.payload, trace=trace)
        except AuthError:
            raise
        except MoEngageHTTPError as exc:
            self._count_trace(trace)
            self._fail(items, exc)
            return
        self._count_trace(trace)
        report.bodies += 1
        report.bytes_sent += body.size
        invalid = self._invalid(answer)
        duplicates = {
            str(doc) for detail in invalid if detail.get("error-id") == DUPLICATE_ITEM_IDS
            for doc in detail.get("document_ids") or ()
        }
        refused = self._letters_for(items, invalid, skip=DUPLICATE_ITEM_IDS)
        report.items_sent += len(items) - len(duplicates) - len(refused)
        self.stored.update(str(item["id"]) for item in items if str(item["id"]) not in refused)
        if duplicates:
            self._update([item for item in items if str(item["id"]) in duplicates])
        for item in items:
            self.rows.pop(str(item["id"]), None)

    def _update(self, items: list[dict[str, Any]]) -> None:
        from moengage_pipelines.api.counters import RequestTrace

        updates = [
            {"id": item["id"], "attributes": {k: v for k, v in item.items() if k != "id"}}
            for item in items
        ]
        trace = RequestTrace()
        try:
            answer = self.client.update_catalog_items(self.catalog_id, updates, trace=trace)
        except AuthError:
            raise
        except MoEngageHTTPError as exc:
            self._count_trace(trace)
            self._fail(items, exc)
            return
        self._count_trace(trace)
        self.report.bodies += 1
        refused = self._letters_for(items, self._invalid(answer))
        self.report.items_updated += len(items) - len(refused)
        self.report.items_sent += len(items) - len(refused)

    def _count_trace(self, trace: Any) -> None:
        self.report.retries += trace.retries
        self.report.http_429 += trace.http_429
        self.report.budget_wait_seconds += trace.budget_wait_seconds

    @staticmethod
    def _invalid(answer: Any) -> list[dict[str, Any]]:
        message = answer.get("message") if isinstance(answer, dict) else None
        invalid = message.get("invalid") if isinstance(message, dict) else None
        details = invalid.get("details") if isinstance(invalid, dict) else None
        return [detail for detail in details or () if isinstance(detail, dict)]

    def _letters_for(
        self, items: list[dict[str, Any]], invalid: list[dict[str, Any]], skip: str = ""
    ) -> set[str]:
        """Dead letters for items MoEngage called invalid; returns their ids."""
        by_id = {str(item["id"]): item for item in items}
        refused: set[str] = set()
        for detail in invalid:
            error_id = str(detail.get("error-id") or "invalid")
            if error_id == skip:
                continue
            documents = [str(doc) for doc in detail.get("document_ids") or ()]
            for document in documents:
                if document in refused or document not in by_id:
                    continue
                refused.add(document)
                self._letter(
                    "catalog_" + error_id.replace("-", "_"),
                    str(detail.get("message") or error_id),
                    by_id[document],
                )
            unnamed = int(detail.get("count") or 0) - len(documents)
            self.report.items_invalid += max(unnamed, 0)
        self.report.items_invalid += len(refused)
        return refused

    def _letter(self, rule: str, message: str, item: dict[str, Any]) -> None:
        item_id = str(item["id"])
        self.letters.add(
            rule=rule,
            column=None,
            message=message,
            row=orjson.dumps(item).decode(),
            row_key=item_id,
            row_number=self.rows.get(item_id, -1),
        )
        self.report.rows_valid -= 1

    def _fail(self, items: list[dict[str, Any]], exc: MoEngageHTTPError) -> None:
        self.report.failed_bodies += 1
        self.report.failed_rows += len(items)
        for item in items:
            item_id = str(item["id"])
            self.letters.add(
                rule="delivery_failed",
                column=None,
                message=f"MoEngage answered {exc.status}: {exc.message}",
                row=orjson.dumps(item).decode(),
                row_key=item_id,
                row_number=self.rows.get(item_id, -1),
                counted=False,
            )

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
        if self.options.dry_run:
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


def run_catalog_push(
    source: Source,
    mapping: CatalogMapping,
    client: Any,
    *,
    sync_name: str,
    partition: str | None,
    window: TimeWindow | None,
    dead_letters: DeadLetterSink | None,
    options: PushOptions,
    state: CatalogState | None,
) -> PushReport:
    """Push a source into a catalog (see the module docstring); called by ``run_push``."""
    if mapping.mirror and window is not None:
        raise MappingError("mirror mode needs the whole source; do not pass a time window")
    if mapping.mirror and state is None:
        raise MappingError("mirror mode needs a catalog state that remembers pushed ids")
    started = time.perf_counter()
    report = PushReport(
        sync_name=sync_name,
        entity="catalog",
        partition=partition,
        dry_run=options.dry_run,
        max_body_bytes=options.catalog_max_body_bytes,
    )
    letters = DeadLetterBuffer(report, dead_letters, sync_name=sync_name, partition=partition)
    packer = catalog_packer(options.catalog_max_body_bytes)
    push = _CatalogPush(mapping, client, report, letters, options, state)

    def progress() -> None:
        report.duration_seconds = time.perf_counter() - started
        if options.on_progress is not None:
            options.on_progress(report)

    with ElementSerializer(
        mapping, now=options.now, threads=options.threads, with_keys=True
    ) as serializer:
        stream: Iterator[ValidElements] = validated_elements(
            source,
            serializer,
            window=window,
            batch_rows=options.batch_rows,
            max_element_bytes=packer.max_element_bytes(),
            report=report,
            letters=letters,
            on_batch=progress,
        )
        for valid in stream:
            push.resolve(valid.batch.schema)
            unique = push.unique(valid)
            for body in packer.pack(unique.elements, unique.first_row):
                push.send(body)
                progress()
        for body in packer.flush():
            push.send(body)
    if mapping.mirror:
        push.mirror()
    letters.flush()
    report.duration_seconds = time.perf_counter() - started
    progress()
    return report
