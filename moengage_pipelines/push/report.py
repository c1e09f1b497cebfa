"""``PushReport``: what one push read, rejected, packed and sent."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from moengage_pipelines.errors import MoEngageError

if TYPE_CHECKING:
    # Only for the annotation: the report stays cheap to import (the CLI's --help reads it).
    from moengage_pipelines.push.send.result import DeliveryResult

__all__ = ["PushReport", "RowsRejectedError"]


@dataclass
class PushReport:
    """Counters of one push (one sync, one partition).

    Attributes:
        sync_name: Name of the push (e.g. the Dagster asset key).
        entity: ``users``, ``events`` or ``catalog``.
        partition: Partition key, if any.
        dry_run: True when nothing was sent.
        rows_read: Rows read from the source.
        rows_valid: Rows that passed validation and were packed.
        rows_rejected: Rows turned into dead letters before sending.
        rejected_by_rule: Rejected rows per rule.
        users_sent, events_sent, items_sent: Elements MoEngage accepted (in a dry run: packed).
        items_updated: Catalog items updated because they already existed.
        items_deleted: Catalog items deleted by mirror mode.
        items_invalid: Catalog items MoEngage reported invalid (also dead letters).
        bodies: Request bodies sent (in a dry run: packed).
        bytes_sent: Their bytes.
        max_body_bytes: The body size limit used.
        largest_body_bytes: The largest body produced.
        retries: Requests repeated after a 429, 5xx or transport failure.
        http_429: 429 answers received.
        splits: Bodies split after a 413 or to fit a rate window.
        failed_bodies: Bodies not delivered: refused by MoEngage, answer lost, or never sent
            because delivery stopped.
        failed_rows: Rows in those bodies.
        refused_bodies: Of those, bodies MoEngage refused with a 4xx other than 408 and 429:
            sending them again would be refused again.
        ambiguous_bodies: Failed bodies whose answer was lost after sending: MoEngage may
            have applied them (the next run sends them again).
        ambiguous_rows: Rows in those bodies.
        stop_reason: Why delivery stopped early, if it did.
        stop_status: HTTP status of the failure that stopped delivery (None without one): a
            401 or 403 will repeat on every retry, a 5xx or 429 may not.
        bodies_skipped: Bodies not sent because the push ledger shows MoEngage accepted them.
        rows_skipped: Rows in those bodies.
        bodies_held: Bodies an earlier run left ambiguous (MoEngage may have applied them),
            not sent again under ``resend="never"``.
        rows_held: Rows in those bodies.
        rows_new, rows_changed, rows_retried: Diff sync: rows sent because their key is new,
            their element changed, or an earlier send was never confirmed (retried).
        rows_unchanged: Diff sync: rows identical to what MoEngage confirmed, not sent.
        rows_refreshed: Unchanged rows sent anyway (``full``).
        duplicate_keys: Rows whose key (customer or item id) appeared before in the push.
        rows_superseded: Of those, rows not sent: replaced by a later row of the same key in
            the same batch (the last wins), or identical to the row already sent.
        budget_wait_seconds: Time spent waiting for the shared rate budget.
        duration_seconds: Wall-clock time of the push.
    """

    sync_name: str
    entity: str
    partition: str | None = None
    dry_run: bool = False
    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    rejected_by_rule: Counter[str] = field(default_factory=Counter)
    users_sent: int = 0
    events_sent: int = 0
    items_sent: int = 0
    items_updated: int = 0
    items_deleted: int = 0
    items_invalid: int = 0
    bodies: int = 0
    bytes_sent: int = 0
    max_body_bytes: int = 0
    largest_body_bytes: int = 0
    retries: int = 0
    http_429: int = 0
    splits: int = 0
    failed_bodies: int = 0
    failed_rows: int = 0
    refused_bodies: int = 0
    ambiguous_bodies: int = 0
    ambiguous_rows: int = 0
    stop_reason: str = ""
    stop_status: int | None = None
    bodies_skipped: int = 0
    rows_skipped: int = 0
    bodies_held: int = 0
    rows_held: int = 0
    rows_new: int = 0
    rows_changed: int = 0
    rows_retried: int = 0
    rows_unchanged: int = 0
    rows_refreshed: int = 0
    duplicate_keys: int = 0
    rows_superseded: int = 0
    budget_wait_seconds: float = 0.0
    duration_seconds: float = 0.0

    @classmethod
    def combine(cls, reports: Sequence[PushReport]) -> PushReport:
        """One report for several partitions of the same push (a backfill run).

        Counts and durations add up, the body limit and the largest body stay peaks, and the
        derived figures (ideal bodies, fill ratio, rows per second) follow from the totals.

        Raises:
            ValueError: If ``reports`` is empty.
        """
        if not reports:
            raise ValueError("combine needs at least one report")
        first, last = reports[0], reports[-1]
        partition = first.partition
        if len(reports) > 1 and first.partition and last.partition:
            partition = f"{first.partition}...{last.partition}"
        combined = cls(
            sync_name=first.sync_name,
            entity=first.entity,
            partition=partition,
            dry_run=all(report.dry_run for report in reports),
        )
        for spec in fields(cls):
            if spec.name in {"sync_name", "entity", "partition", "dry_run"}:
                continue
            values = [getattr(report, spec.name) for report in reports]
            if spec.name == "stop_reason":
                combined.stop_reason = "; ".join(dict.fromkeys(v for v in values if v))
                continue
            if spec.name == "stop_status":
                combined.stop_status = next((v for v in values if v is not None), None)
                continue
            if spec.name in {"max_body_bytes", "largest_body_bytes"}:
                setattr(combined, spec.name, max(values))
            elif spec.name == "rejected_by_rule":
                setattr(combined, spec.name, sum(values, Counter()))
            else:
                setattr(combined, spec.name, sum(values))
        return combined

    def take_delivery(self, result: DeliveryResult, *, sent: bool = True) -> None:
        """Set the delivery figures from a delivery's running totals (called as it goes).

        Args:
            result: The delivery's totals so far.
            sent: Also take what was sent (bodies, bytes, elements); a catalog push counts
                those from MoEngage's answers instead.
        """
        if sent:
            self.bodies = result.bodies_sent
            self.bytes_sent = result.bytes_sent
            self.users_sent = result.users_sent
            self.events_sent = result.events_sent
            self.items_sent = result.items_sent
        self.bodies_skipped = result.bodies_skipped
        self.rows_skipped = result.rows_skipped
        self.bodies_held = result.bodies_held
        self.rows_held = result.rows_held
        self.retries = result.retries
        self.http_429 = result.http_429
        self.splits = result.splits_413 + result.splits_budget
        self.failed_bodies = len(result.failures) + result.unsent_bodies
        self.failed_rows = result.failed_elements + result.unsent_rows
        self.refused_bodies = sum(
            1 for failure in result.failures
            if failure.status is not None and 400 <= failure.status < 500
            and failure.status not in (408, 429)
        )
        ambiguous = result.ambiguous_failures
        self.ambiguous_bodies = len(ambiguous)
        self.ambiguous_rows = sum(failure.elements for failure in ambiguous)
        self.stop_reason = result.stop_reason
        self.stop_status = result.stop_status
        self.budget_wait_seconds = result.budget_wait_seconds

    def take_diff(self, counts: Any) -> None:
        """Set the diff-sync figures from a ``DiffCounts``."""
        self.rows_new = counts.new
        self.rows_changed = counts.changed
        self.rows_retried = counts.retried
        self.rows_unchanged = counts.unchanged
        self.rows_refreshed = counts.refreshed
        self.duplicate_keys = counts.duplicate_keys
        self.rows_superseded = counts.superseded

    def reject(self, rule: str, count: int = 1) -> None:
        """Count rejected rows under a rule."""
        self.rows_rejected += count
        self.rejected_by_rule[rule] += count

    @property
    def ideal_bodies(self) -> int:
        """The fewest bodies the bytes sent could fit in: ``ceil(bytes_sent / max_body_bytes)``."""
        if not self.max_body_bytes:
            return 0
        return math.ceil(self.bytes_sent / self.max_body_bytes)

    @property
    def fill_ratio(self) -> float:
        """Average body size as a share of the limit (1.0 = every body full)."""
        if not self.bodies or not self.max_body_bytes:
            return 0.0
        return self.bytes_sent / (self.bodies * self.max_body_bytes)

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of wall-clock time."""
        return self.rows_read / self.duration_seconds if self.duration_seconds else 0.0

    @property
    def rows_sent(self) -> int:
        """Rows MoEngage accepted in this push (in a dry run: packed)."""
        return {"users": self.users_sent, "events": self.events_sent}.get(
            self.entity, self.items_sent
        )

    @property
    def rows_unaccounted(self) -> int:
        """Valid rows neither sent, skipped, held, failed, unchanged nor a repeated key.

        Always 0 after a push.
        """
        return self.rows_valid - (
            self.rows_sent + self.rows_skipped + self.rows_held + self.failed_rows
            + self.rows_unchanged + self.rows_superseded
        )

    @property
    def ok(self) -> bool:
        """True when every valid row was delivered: none failed, none held back."""
        return self.failed_bodies == 0 and self.bodies_held == 0

    def to_metadata(self) -> dict[str, Any]:
        """A flat dict of plain values (str, int, float, bool), e.g. for Dagster metadata.

        Rejections per rule appear as ``rejected_<rule>`` keys.
        """
        metadata: dict[str, Any] = {
            "sync_name": self.sync_name,
            "entity": self.entity,
            "partition": self.partition or "",
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "rows_valid": self.rows_valid,
            "rows_rejected": self.rows_rejected,
            "users_sent": self.users_sent,
            "events_sent": self.events_sent,
            "items_sent": self.items_sent,
            "items_updated": self.items_updated,
            "items_deleted": self.items_deleted,
            "items_invalid": self.items_invalid,
            "bodies": self.bodies,
            "bytes_sent": self.bytes_sent,
            "max_body_bytes": self.max_body_bytes,
            "largest_body_bytes": self.largest_body_bytes,
            "ideal_bodies": self.ideal_bodies,
            "fill_ratio": round(self.fill_ratio, 4),
            "retries": self.retries,
            "http_429": self.http_429,
            "splits": self.splits,
            "failed_bodies": self.failed_bodies,
            "failed_rows": self.failed_rows,
            "ambiguous_bodies": self.ambiguous_bodies,
            "ambiguous_rows": self.ambiguous_rows,
            "bodies_skipped": self.bodies_skipped,
            "rows_skipped": self.rows_skipped,
            "bodies_held": self.bodies_held,
            "rows_held": self.rows_held,
            "rows_new": self.rows_new,
            "rows_changed": self.rows_changed,
            "rows_retried": self.rows_retried,
            "rows_unchanged": self.rows_unchanged,
            "rows_refreshed": self.rows_refreshed,
            "duplicate_keys": self.duplicate_keys,
            "rows_superseded": self.rows_superseded,
            "budget_wait_seconds": round(self.budget_wait_seconds, 3),
            "duration_seconds": round(self.duration_seconds, 3),
            "rows_per_second": round(self.rows_per_second, 1),
        }
        for rule, count in sorted(self.rejected_by_rule.items()):
            metadata[f"rejected_{rule}"] = count
        return metadata

    def summary(self) -> str:
        """One line for logs and the command line."""
        sent = {"users": self.users_sent, "events": self.events_sent, "catalog": self.items_sent}
        verb = "packed" if self.dry_run else "sent"
        parts = [
            f"{self.rows_read:,} rows read",
            f"{self.rows_valid:,} valid",
            f"{self.rows_rejected:,} rejected",
            f"{sent.get(self.entity, 0):,} {self.entity} {verb}",
            f"{self.bodies:,} bodies ({self.ideal_bodies:,} ideal)",
            f"{self.bytes_sent:,} bytes",
        ]
        if self.rejected_by_rule:
            rules = ", ".join(f"{rule}={count}" for rule, count in self.rejected_by_rule.items())
            parts.append(f"rejects: {rules}")
        if self.failed_bodies:
            failed = f"{self.failed_bodies} bodies failed ({self.failed_rows} rows"
            if self.ambiguous_bodies:
                failed += (
                    f"; {self.ambiguous_bodies} ambiguous: answer lost after sending, may have "
                    "been applied"
                )
            parts.append(failed + ")")
            if self.stop_reason:
                parts.append(f"stopped: {self.stop_reason}")
        if self.bodies_skipped:
            parts.append(
                f"{self.bodies_skipped:,} bodies already sent ({self.rows_skipped:,} rows)"
            )
        if self.bodies_held:
            parts.append(
                f"{self.bodies_held:,} ambiguous bodies held back ({self.rows_held:,} rows)"
            )
        if self.rows_unchanged or self.rows_retried or self.duplicate_keys:
            parts.append(
                f"diff: {self.rows_new:,} new, {self.rows_changed:,} changed, "
                f"{self.rows_retried:,} retried, {self.rows_unchanged:,} unchanged, "
                f"{self.duplicate_keys:,} repeated keys"
            )
        if self.items_updated or self.items_deleted:
            parts.append(f"{self.items_updated} updated, {self.items_deleted} deleted")
        if self.http_429 or self.retries:
            parts.append(f"{self.retries} retries, {self.http_429} x 429")
        parts.append(f"{self.duration_seconds:.1f}s")
        return "; ".join(parts)


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
