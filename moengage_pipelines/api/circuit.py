"""``CircuitBreaker``: stop knocking on a host that refuses every connection.

An unreachable host (refused, unknown name, a firewall dropping packets) costs each request
its full connect timeout on every attempt, and each worker thread pays it separately. Once
``threshold`` connection attempts in a row have failed without any answer, across all the
threads of a client, the circuit *opens*: requests fail at once with
:class:`~moengage_pipelines.api.exceptions.MoEngageUnreachableError`, which is never
ambiguous since nothing was sent. An answer of any status closes it again, as does any failure
that happens after a connection was made (the host is reachable then).

While open, one request every ``probe_after`` seconds is let through to try the host again, so
a long-lived client recovers once the host is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from moengage_pipelines.api.exceptions import MoEngageUnreachableError

__all__ = ["CircuitBreaker"]

logger = logging.getLogger(__name__)


class CircuitBreaker:
    """Consecutive connection failures of one client, shared by its threads.

    Args:
        threshold: Connection attempts in a row that fail before the circuit opens.
        probe_after: Seconds the circuit stays open before one request may try again.
        clock: Monotonic seconds (replace in tests).
    """

    def __init__(
        self,
        threshold: int = 4,
        *,
        probe_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if threshold < 1:
            raise ValueError(f"threshold must be at least 1, got {threshold}")
        if probe_after < 0:
            raise ValueError(f"probe_after must not be negative, got {probe_after}")
        self.threshold = threshold
        self.probe_after = probe_after
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._cause = ""
        self._opened_failures = 0
        # None while closed; else when the next probe may go out.
        self._next_probe: float | None = None

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker(threshold={self.threshold}, probe_after={self.probe_after:g}, "
            f"open={self.is_open})"
        )

    @property
    def is_open(self) -> bool:
        """Whether requests are currently failed at once."""
        with self._lock:
            return self._next_probe is not None

    def admit(self, *, host: str, endpoint: str) -> None:
        """Let an attempt go out, or refuse it at once while the circuit is open.

        Args:
            host: The host, as shown in the error (passwords hidden).
            endpoint: The request's path, as shown in the error.

        Raises:
            MoEngageUnreachableError: While open, except for one probe per ``probe_after``.
        """
        with self._lock:
            if self._next_probe is None:
                return
            now = self._clock()
            if now >= self._next_probe:
                # This attempt is the probe; the others keep failing until it tells.
                self._next_probe = now + self.probe_after
                return
        raise self.error(host=host, endpoint=endpoint)

    def error(self, *, host: str, endpoint: str) -> MoEngageUnreachableError:
        """The error of a request refused because the circuit is open."""
        with self._lock:
            cause, failures = self._cause, self._opened_failures
        return MoEngageUnreachableError(
            host=host, cause=cause, failures=failures, endpoint=endpoint
        )

    def connect_failed(self, cause: str, *, host: str) -> bool:
        """Record an attempt that got no connection at all.

        Args:
            cause: What failed, e.g. ``ConnectError: [Errno 111] Connection refused``
                (already free of secrets).
            host: The host, for the log line when the circuit opens.

        Returns:
            Whether the circuit is open now: the request should not try again.
        """
        with self._lock:
            self._failures += 1
            self._cause = cause
            if self._failures < self.threshold:
                return False
            opening = self._next_probe is None
            failures = self._opened_failures = self._failures
            self._next_probe = self._clock() + self.probe_after
        if opening:
            logger.warning(
                "%s unreachable: %d connection attempts in a row failed (last: %s); failing "
                "requests at once, trying again in %gs",
                host,
                failures,
                cause,
                self.probe_after,
            )
        return True

    def connected(self) -> None:
        """Record an attempt that reached the host (an answer, or a failure after connecting)."""
        with self._lock:
            self._failures = 0
            self._next_probe = None
