"""``TimeWindow`` and the ``Source`` protocol every input implements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import pyarrow as pa

__all__ = ["DEFAULT_BATCH_ROWS", "Source", "TimeWindow", "as_utc"]

DEFAULT_BATCH_ROWS = 65_536


def as_utc(value: dt.datetime | dt.date | str) -> dt.datetime:
    """Return an aware UTC datetime; naive values (and bare dates) are taken to be UTC.

    Args:
        value: A datetime, a date (midnight) or an ISO 8601 string.

    Returns:
        The same instant with ``tzinfo=UTC``.
    """
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


@dataclass(frozen=True, init=False)
class TimeWindow:
    """A half-open interval of time, ``start <= t < end``, in UTC.

    Naive datetimes given to the constructor are UTC; aware ones are converted.

    Attributes:
        start: Inclusive lower bound (aware, UTC).
        end: Exclusive upper bound (aware, UTC).
    """

    start: dt.datetime
    end: dt.datetime

    def __init__(self, start: dt.datetime | dt.date | str, end: dt.datetime | dt.date | str):
        start_utc, end_utc = as_utc(start), as_utc(end)
        if end_utc <= start_utc:
            raise ValueError(
                f"time window end {end_utc.isoformat()} is not after its start "
                f"{start_utc.isoformat()}"
            )
        object.__setattr__(self, "start", start_utc)
        object.__setattr__(self, "end", end_utc)

    @classmethod
    def for_day(cls, day: dt.date | str) -> TimeWindow:
        """The UTC calendar day ``day`` (``00:00`` inclusive to the next ``00:00`` exclusive)."""
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        if isinstance(day, dt.datetime):
            day = day.date()
        start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
        return cls(start, start + dt.timedelta(days=1))

    @property
    def naive_start(self) -> dt.datetime:
        """``start`` without a zone, for comparing with naive (UTC) timestamp columns."""
        return self.start.replace(tzinfo=None)

    @property
    def naive_end(self) -> dt.datetime:
        """``end`` without a zone, for comparing with naive (UTC) timestamp columns."""
        return self.end.replace(tzinfo=None)

    def contains(self, moment: dt.datetime | dt.date) -> bool:
        """Tell whether ``moment`` (naive means UTC) falls inside the window."""
        return self.start <= as_utc(moment) < self.end

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"


@runtime_checkable
class Source(Protocol):
    """A stream of Arrow record batches, optionally limited to a time window."""

    def describe(self) -> str:
        """Return a one-line description, safe to log (no passwords)."""
        ...

    def iter_batches(
        self,
        window: TimeWindow | None = None,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        """Yield record batches of at most ``batch_rows`` rows.

        Args:
            window: Only rows whose time column falls in the window (requires a time column).
            batch_rows: Maximum rows per batch.
            columns: Only these columns (in this order); ``None`` means all.

        Yields:
            Non-empty record batches with one schema.
        """
        ...
