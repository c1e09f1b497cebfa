"""``RateBudget``: wait until a request fits the workspace's rate windows, then spend it."""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import unquote, urlparse

from moengage_pipelines.api.exceptions import (
    RateBudgetError,
    RateBudgetStoreError,
    RateBudgetTimeoutError,
)
from moengage_pipelines.api.ratebudget.adaptive import (
    DEFAULT_ADAPTATION,
    Adaptation,
    LimitFactors,
)
from moengage_pipelines.api.ratebudget.memory import MemoryBudgetStore
from moengage_pipelines.api.ratebudget.sqlite import SQLiteBudgetStore
from moengage_pipelines.api.ratebudget.store import BucketRequest, BudgetStore
from moengage_pipelines.api.ratebudget.windows import BudgetLimits, Window, default_limits
from moengage_pipelines.errors import ConfigError

__all__ = ["RateBudget"]

logger = logging.getLogger(__name__)

# Sleep a hair past the computed instant so the entry has really left the window.
_WAKE_MARGIN = 0.001


class RateBudget:
    """A weighted, multi-window rate budget for one MoEngage workspace.

    Every process that builds a budget with the same store and namespace shares one budget:
    ``acquire`` admits a request only when its cost fits every window of every bucket it
    spends, counting what all of them already spent.

    Args:
        store: Where spending is recorded. Defaults to the machine-wide SQLite file
            (:func:`~moengage_pipelines.api.ratebudget.sqlite.default_budget_path`).
        namespace: Identifies the workspace, e.g. ``"https://api-01.moengage.com|WS123"``.
        limits: Bucket name → windows; defaults to MoEngage's documented numbers. Buckets not
            listed are not limited.
        time_scale: How much faster than real time the windows run; 60 makes a minute's
            budget last one second (to match an emulator started with the same scale).
        slack: Real seconds added to every window. :meth:`hold` already keeps a request in
            the windows until it completes; the slack covers clock differences between the
            machines sharing a Redis budget.
        max_wait: Default longest wait in one ``acquire``; None waits as long as needed.
        adaptation: How the limits shrink when MoEngage answers 429 to a request the budget
            admitted, and grow back (see :mod:`~moengage_pipelines.api.ratebudget.adaptive`);
            None keeps the configured limits whatever MoEngage answers.
        clock: Seconds since the epoch (replace in tests).
        sleep: Sleeps for seconds (replace in tests).
    """

    def __init__(
        self,
        store: BudgetStore | None = None,
        *,
        namespace: str = "default",
        limits: BudgetLimits | None = None,
        time_scale: float = 1.0,
        slack: float = 0.05,
        max_wait: float | None = None,
        adaptation: Adaptation | None = DEFAULT_ADAPTATION,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {time_scale}")
        if slack < 0:
            raise ValueError(f"slack must not be negative, got {slack}")
        self.store: BudgetStore = store if store is not None else SQLiteBudgetStore()
        self.namespace = namespace
        self.limits: dict[str, tuple[Window, ...]] = {
            name: tuple(windows)
            for name, windows in (default_limits() if limits is None else limits).items()
        }
        self.time_scale = float(time_scale)
        self.slack = float(slack)
        self.max_wait = max_wait
        self.factors = LimitFactors(adaptation)
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def from_url(cls, url: str, **options: object) -> RateBudget:
        """Build a budget from a store URL.

        Args:
            url: ``memory://``, ``sqlite:////abs/path.sqlite`` or ``sqlite:///rel/path.sqlite``
                (``sqlite://`` alone means the default file) or ``redis://host:port/db`` (also ``rediss://``).
            **options: Passed to the constructor (``namespace``, ``limits``, ``time_scale``...).

        Raises:
            ConfigError: For an unknown scheme, or a store that cannot be opened.
        """
        parsed = urlparse(url)
        store: BudgetStore
        if parsed.scheme == "memory":
            store = MemoryBudgetStore()
        elif parsed.scheme == "sqlite":
            # As in SQLAlchemy: sqlite:///relative.sqlite, sqlite:////absolute.sqlite.
            path = unquote(parsed.path)[1:]
            store = SQLiteBudgetStore(path or None)
        elif parsed.scheme in {"redis", "rediss", "unix"}:
            from moengage_pipelines.api.ratebudget.redis import RedisBudgetStore

            try:
                store = RedisBudgetStore(url)
            except Exception as exc:  # a malformed URL, or the redis package missing
                raise ConfigError(
                    f"rate budget store {parsed.scheme}://...: {type(exc).__name__}: {exc}"
                ) from None
        else:
            # Show a URL only by its scheme: the rest may hold a password.
            shown = f"{parsed.scheme}://..." if "://" in url else url
            raise ConfigError(
                f"unknown rate budget store {shown!r}; use file, memory, sqlite:///path "
                "or redis://host:port/db"
            )
        return cls(store, **options)  # type: ignore[arg-type]

    @classmethod
    def unlimited(cls) -> RateBudget:
        """A budget that never waits (no buckets): pacing is left to the server's 429s."""
        return cls(MemoryBudgetStore(), namespace="unlimited", limits={})

    def __repr__(self) -> str:
        return (
            f"RateBudget(store={self.store!r}, namespace={self.namespace!r}, "
            f"time_scale={self.time_scale:g})"
        )

    def _key(self, bucket: str) -> str:
        return f"{self.namespace}|{bucket}"

    def real_seconds(self, seconds: float) -> float:
        """A span of MoEngage time in real seconds under this budget's ``time_scale``."""
        return seconds / self.time_scale

    def now(self) -> float:
        """The budget's current time (seconds since the epoch), as its entries are stamped."""
        return self._clock()

    def _growth_window(self, bucket: str) -> float:
        # Limits grow back once per clean span of the bucket's shortest window.
        windows = self.limits.get(bucket, ())
        return min(self.real_seconds(w.seconds) for w in windows) + self.slack if windows else 0.0

    def limit_factor(self, bucket: str) -> float:
        """The share of ``bucket``'s configured limits in use now (1.0 until a 429 shrinks it)."""
        return self.factors.factor(bucket, self._clock(), self._growth_window(bucket))

    def throttled(
        self, cost: Mapping[str, int], *, admitted_at: float, paused_for: float | None = None
    ) -> list[str]:
        """Shrink the buckets a request spent from, after MoEngage answered it 429.

        The budget admitted the request, so MoEngage's budget for the workspace is smaller
        than this one. Each bucket shrinks once per 429 of a request admitted after its last
        shrink (see :mod:`~moengage_pipelines.api.ratebudget.adaptive`).

        Args:
            cost: The request's cost, as given to :meth:`hold`.
            admitted_at: When the budget admitted it (:meth:`now` read at admission).
            paused_for: Seconds the buckets are paused after the 429 (see :meth:`pause`);
                growth back counts windows from the end of the pause.

        Returns:
            The buckets that shrank.
        """
        now = self._clock()
        paused_until = now + paused_for if paused_for else None
        shrunk = []
        for bucket, units in cost.items():
            if not units or bucket not in self.limits:
                continue
            window = self._growth_window(bucket)
            if self.factors.decrease(
                bucket, now=now, window=window, admitted_at=admitted_at, paused_until=paused_until
            ):
                shrunk.append(bucket)
                factor = self.factors.factor(bucket, now, window)
                logger.info(
                    "rate budget: MoEngage answered 429 within our budget for %s; using %.0f%% "
                    "of its limits (%s) until windows pass without one",
                    bucket,
                    factor * 100,
                    ", ".join(
                        Window(max(math.floor(w.limit * factor), 1), w.seconds).describe()
                        for w in self.limits[bucket]
                    ),
                )
        return shrunk

    def check(self) -> None:
        """Open the store once (its file, its connection), so a store that cannot work fails now.

        Raises:
            RateBudgetStoreError: Naming the store and what went wrong.
        """
        for bucket in self.limits:
            try:
                self.used(bucket)
            except Exception as exc:
                raise RateBudgetStoreError(_store_failure(self.store, exc)) from None
            return

    def requests_for(self, cost: Mapping[str, int]) -> list[BucketRequest]:
        """Turn ``{bucket: units}`` into store requests, rejecting costs no window can hold.

        Raises:
            RateBudgetError: If a cost is negative or larger than one of its windows.
        """
        requests = []
        for bucket, units in cost.items():
            if units < 0:
                raise RateBudgetError(f"rate budget cost of {bucket!r} is negative ({units})")
            windows = self.limits.get(bucket)
            if not units or not windows:
                continue
            for window in windows:
                if units > window.limit:
                    raise RateBudgetError(
                        f"one request would spend {units} units of {bucket!r}, more than its "
                        f"{window.describe()} window allows; split it into smaller requests"
                    )
            factor = self.factors.factor(bucket, self._clock(), self._growth_window(bucket))
            requests.append(
                BucketRequest(
                    self._key(bucket),
                    int(units),
                    tuple(
                        (_shrunk(w.limit, factor, units), self.real_seconds(w.seconds) + self.slack)
                        for w in windows
                    ),
                )
            )
        return requests

    def acquire(self, cost: Mapping[str, int], *, max_wait: float | None = None) -> float:
        """Wait until ``cost`` fits every window, then record it as spent now.

        Prefer :meth:`hold` around a request: it also counts the request's latency.

        Args:
            cost: Units per bucket, e.g. ``{"transition_users": 480, "transition_events": 0}``.
            max_wait: Longest total wait in seconds; defaults to the budget's ``max_wait``.

        Returns:
            Seconds spent waiting.

        Raises:
            RateBudgetError: If the cost can never fit (bigger than a window).
            RateBudgetTimeoutError: If fitting it would take longer than ``max_wait``.
        """
        requests = self.requests_for(cost)
        return self._wait_and_record(requests, cost, uuid.uuid4().hex, max_wait)

    @contextmanager
    def hold(self, cost: Mapping[str, int], *, max_wait: float | None = None) -> Iterator[float]:
        """Spend ``cost`` for a request made inside the ``with`` block.

        The spending is recorded when admitted and moved to the moment the block ends, so it
        stays in every window for a full window after MoEngage could have counted the
        request, however long the request took.

        Args:
            cost: Units per bucket.
            max_wait: Longest total wait in seconds; defaults to the budget's ``max_wait``.

        Yields:
            Seconds spent waiting for the budget.

        Raises:
            RateBudgetError: If the cost can never fit (bigger than a window).
            RateBudgetTimeoutError: If fitting it would take longer than ``max_wait``.
        """
        requests = self.requests_for(cost)
        token = uuid.uuid4().hex
        waited = self._wait_and_record(requests, cost, token, max_wait)
        try:
            yield waited
        finally:
            if requests:
                try:
                    self.store.settle(self._clock, requests, token)
                except Exception as exc:
                    # The request is done; failing it now would invite a duplicate resend.
                    logger.warning("rate budget: could not record a request's end: %s", exc)

    def _wait_and_record(
        self,
        requests: list[BucketRequest],
        cost: Mapping[str, int],
        token: str,
        max_wait: float | None,
    ) -> float:
        if not requests:
            return 0.0
        limit = self.max_wait if max_wait is None else max_wait
        waited = 0.0
        while True:
            try:
                wait = self.store.try_acquire(self._clock, requests, token)
            except Exception as exc:
                raise RateBudgetStoreError(_store_failure(self.store, exc)) from None
            if wait <= 0:
                return waited
            if limit is not None and waited + wait > limit:
                raise RateBudgetTimeoutError(
                    f"the rate budget for {', '.join(cost)} needs {wait:.1f}s more, beyond the "
                    f"allowed {limit:g}s",
                    wait=wait,
                )
            logger.debug("rate budget: waiting %.3fs for %s", wait, dict(cost))
            self._sleep(wait + _WAKE_MARGIN)
            waited += wait + _WAKE_MARGIN

    def pause(self, buckets: Iterable[str], seconds: float) -> None:
        """Stop admitting from ``buckets`` for ``seconds`` real seconds, in every process.

        The client calls this when MoEngage answers 429 anyway: the server is the authority,
        so everyone sharing the budget backs off until it says the window resets.
        """
        keys = [self._key(bucket) for bucket in buckets if bucket in self.limits]
        if keys and seconds > 0:
            self.store.pause(keys, self._clock() + seconds)

    def used(self, bucket: str, seconds: float | None = None) -> int:
        """Units spent from ``bucket`` in its first window, or in the last ``seconds``.

        ``seconds`` is MoEngage time (scaled by ``time_scale``).
        """
        windows = self.limits.get(bucket, ())
        span = seconds if seconds is not None else (windows[0].seconds if windows else 60.0)
        return self.store.used(self._key(bucket), self._clock(), self.real_seconds(span))

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()


def _shrunk(limit: int, factor: float, units: int) -> int:
    """A window's limit at ``factor`` of it, never below one request of ``units``.

    A request costing more than the shrunk limit is admitted when the window is otherwise
    empty: the smallest pace there is.
    """
    if factor >= 1.0:
        return limit
    return max(math.floor(limit * factor), units, 1)


def _store_failure(store: BudgetStore, error: Exception) -> str:
    # The store's repr shows a file path or a key prefix, never a URL's password.
    return f"the rate budget store {store!r} failed: {type(error).__name__}: {error}"
