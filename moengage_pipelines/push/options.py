"""``PushOptions``: how a push runs (body limits, concurrency, dry run, resend policy)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from moengage_pipelines.limits import CATALOG_MAX_BYTES, TRANSITION_MAX_BYTES
from moengage_pipelines.push.ledger.policy import ResendPolicy, check_resend
from moengage_pipelines.push.report import PushReport

__all__ = ["DEFAULT_BATCH_ROWS", "PushOptions"]

DEFAULT_BATCH_ROWS = 65_536


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
        resend: With the delivery state, what to do with bodies MoEngage may already have
            applied (their answer was lost): ``ambiguous`` (the default: send them again, at
            least once), ``never`` (at most once: hold them back, listed in the report and
            the dead letters; the push is then not ok) or ``always`` (resend every body,
            delivered ones too). See ``moengage_pipelines.push.ledger``.
        full: Users and catalog items: send every row, unchanged ones too, and refresh the
            hashes the diff sync compares with (``moengage_pipelines.push.diff``).
        lookback: Events with ``--since-last-run``: how far before the last run's cursor the
            window starts again, for rows that arrived late.
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
    full: bool = False
    lookback: timedelta | None = None

    def __post_init__(self) -> None:
        if self.resend is not None:
            check_resend(self.resend)
        if self.max_body_bytes < 100:
            raise ValueError(f"max_body_bytes must be at least 100, got {self.max_body_bytes}")
        if self.batch_rows < 1:
            raise ValueError(f"batch_rows must be positive, got {self.batch_rows}")
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be positive, got {self.concurrency}")
