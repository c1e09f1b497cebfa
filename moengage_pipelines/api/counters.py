"""Counters of what a client did: requests, retries, 429s, waits. Safe across threads."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, fields

__all__ = ["ClientStats", "RequestTrace", "StatsCounter"]


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A snapshot of a client's counters.

    Attributes:
        requests: HTTP attempts sent (retries included).
        responses: HTTP responses received, any status.
        retries: Attempts repeated after a 429, 5xx or transport failure.
        http_429: 429 responses.
        http_5xx: 5xx responses.
        transport_errors: Attempts that failed without a response.
        ambiguous_retries: Retries of attempts MoEngage may already have applied (the response
            was lost, or a gateway 502/504); each may have duplicated data.
        failures: Requests that finally failed (after retries).
        unreachable: Requests failed because the host refused connections too often in a row
            (the circuit opened, or was open and they made no attempt).
        unexpected_answers: 2xx answers that were not MoEngage's JSON (a proxy, a portal).
        budget_shrinks: Times a 429 for a request the rate budget admitted shrank the budget.
        bytes_sent: Request body bytes over all attempts.
        budget_wait_seconds: Time spent waiting for the rate budget.
        retry_wait_seconds: Time spent waiting between attempts.
    """

    requests: int = 0
    responses: int = 0
    retries: int = 0
    http_429: int = 0
    http_5xx: int = 0
    transport_errors: int = 0
    ambiguous_retries: int = 0
    failures: int = 0
    unreachable: int = 0
    unexpected_answers: int = 0
    budget_shrinks: int = 0
    bytes_sent: int = 0
    budget_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        """The counters as a plain dict (for reports and metadata)."""
        return asdict(self)


_FIELDS = tuple(f.name for f in fields(ClientStats))


class StatsCounter:
    """Mutable, lock-guarded counters behind :class:`ClientStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, float] = dict.fromkeys(_FIELDS, 0)

    def add(self, **deltas: float) -> None:
        """Add to named counters."""
        with self._lock:
            for name, delta in deltas.items():
                self._values[name] += delta

    def snapshot(self) -> ClientStats:
        """Freeze the current values."""
        with self._lock:
            return ClientStats(**self._values)  # type: ignore[arg-type]


@dataclass(slots=True)
class RequestTrace:
    """What happened during one request (pass one to a client call to have it filled in).

    Attributes:
        attempts: Attempts made.
        retries: Attempts repeated.
        http_429: 429 responses seen.
        ambiguous_retries: Retries after an attempt that may have been applied.
        budget_wait_seconds: Time spent waiting for the rate budget.
        retry_wait_seconds: Time spent between attempts.
        status: Status of the last response, or None if none arrived.
    """

    attempts: int = 0
    retries: int = 0
    http_429: int = 0
    ambiguous_retries: int = 0
    budget_wait_seconds: float = 0.0
    retry_wait_seconds: float = 0.0
    status: int | None = None
