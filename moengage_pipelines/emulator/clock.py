"""``FakeClock``: time that moves only when a test says so, for emulators, budgets and retries."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["DEFAULT_START", "FakeClock"]

DEFAULT_START = 1_700_000_000.0
"""Where a ``FakeClock`` starts unless told: 2023-11-14 22:13:20 UTC."""


class FakeClock:
    """A settable clock: a callable returning epoch seconds, with a ``sleep`` that advances it.

    Pass it as the emulator's clock (``EmulatorSettings(clock=...)``: rate windows, event
    times, report days), and as ``clock``/``sleep`` of a ``RateBudget`` or a retry policy, so
    that waiting moves time instead of blocking.

    Args:
        start: Epoch seconds, or a timezone-aware ``datetime``.

    Attributes:
        now: The current time in epoch seconds; tests may set it.
        sleeps: Every ``sleep`` asked for, in order.
    """

    def __init__(self, start: float | datetime = DEFAULT_START) -> None:
        self.now = _epoch(start)
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """The current time in epoch seconds."""
        return self.now

    def __repr__(self) -> str:
        return f"FakeClock({self.moment.isoformat()})"

    @property
    def moment(self) -> datetime:
        """The current time as a UTC ``datetime``; setting it moves the clock there."""
        return datetime.fromtimestamp(self.now, UTC)

    @moment.setter
    def moment(self, value: datetime) -> None:
        self.now = _epoch(value)

    def sleep(self, seconds: float) -> None:
        """Record the wait and advance the clock by it, without blocking."""
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Move the clock forward (not recorded as a sleep)."""
        self.now += seconds


def _epoch(value: float | datetime) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware datetime")
        return value.timestamp()
    return float(value)
