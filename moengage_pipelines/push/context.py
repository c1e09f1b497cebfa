"""``PushContext``: what every stage of one push shares (names, options, where results go)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from moengage_pipelines.push.dead_letters import DeadLetterBuffer, DeadLetterSink
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.ledger.session import Destination
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.report import PushReport

if TYPE_CHECKING:
    from moengage_pipelines.sources import TimeWindow

__all__ = ["PushContext"]


@dataclass(frozen=True)
class PushContext:
    """One push of one partition, as every stage sees it.

    Attributes:
        sync_name: Name of the push, stored with dead letters, state and report.
        partition: Partition key, if any.
        window: Only rows in this time window.
        source_name: What was read (``Source.describe()``), stored with dead letters.
        run_id: The run this push belongs to, stored with dead letters and state.
        options: How the push runs.
        dead_letters: Where rejected rows go; None only counts them.
        ledger: The delivery state; None sends every body and records nothing.
        settings: The client's settings, naming the destination (None in a dry run without
            a client).
        started: ``time.perf_counter()`` when the push started.
        cursor: The window runs from the last successful run's cursor (``since_last_run``):
            events already delivered inside it are not sent again.
    """

    sync_name: str
    partition: str | None
    window: TimeWindow | None
    source_name: str
    run_id: str
    options: PushOptions
    dead_letters: DeadLetterSink | None
    ledger: PushLedger | None
    settings: Destination | None
    started: float = field(default_factory=time.perf_counter)
    cursor: bool = False

    def new_report(self, entity: str, max_body_bytes: int) -> PushReport:
        """An empty report for this push."""
        return PushReport(
            sync_name=self.sync_name, entity=entity, partition=self.partition,
            dry_run=self.options.dry_run, max_body_bytes=max_body_bytes,
        )

    def letters(self, report: PushReport) -> DeadLetterBuffer:
        """The dead-letter buffer of this push (counts rejects in ``report``)."""
        return DeadLetterBuffer(
            report, self.dead_letters, sync_name=self.sync_name, partition=self.partition,
            source=self.source_name, run_id=self.run_id,
        )

    def progress(self, report: PushReport) -> None:
        """Update the report's duration and tell ``options.on_progress``."""
        report.duration_seconds = time.perf_counter() - self.started
        if self.options.on_progress is not None:
            self.options.on_progress(report)
