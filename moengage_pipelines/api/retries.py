"""When and how long to retry a MoEngage request.

* 429 is back-pressure, not failure: wait as the server says, via ``Retry-After`` (seconds or
  an HTTP date) or ``x-ratelimit-reset`` (MoEngage's pages disagree whether it is an epoch
  timestamp or the seconds left in the window; a value above ten years of seconds can only be
  an epoch), in slices of at most ``max_rate_limit_wait``; without either header, back off
  exponentially. 429s count toward neither ``max_attempts`` nor ``max_elapsed``: only the
  ``rate_limited_deadline`` ends them.
* 5xx and transport failures (connect, timeouts, resets, a server that hung up), and 2xx
  answers that are not MoEngage's JSON: exponential backoff with jitter, as MoEngage advises
  ("retry every 2 s, at most 5 times").
* Everything else (400/401/403/404/409/413/415...) fails at once with MoEngage's message;
  a 413 is the caller's to split.

A transport failure that happens after the request went out (read timeout, reset, hang-up
before the response), a 502/504, or a 2xx that is not MoEngage's answer is *ambiguous*:
MoEngage may have applied the data, so a resend can duplicate events. Those retries are
counted separately, and can be refused.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from moengage_pipelines.errors import RateLimitedError, ServerError, UnexpectedAnswerError

__all__ = [
    "EPOCH_THRESHOLD",
    "RetryConfig",
    "RetryEvent",
    "RetryPolicy",
    "is_ambiguous",
    "is_retryable",
    "parse_rate_limit_reset",
    "parse_retry_after",
    "server_wait",
]

T = TypeVar("T")

# x-ratelimit-reset values above ten years of seconds are epoch timestamps, not countdowns.
EPOCH_THRESHOLD = 10 * 365 * 86_400
# Epoch values above this are in milliseconds.
_EPOCH_MILLIS_THRESHOLD = 100_000_000_000
# 502 and 504 come from a gateway that may have passed the request on before failing.
_AMBIGUOUS_STATUSES = frozenset({502, 504})
# Sent: the response (not the request) was lost, so the server may have applied it.
_AMBIGUOUS_TRANSPORT = (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError)
# Transport failures worth another try (never LocalProtocolError or UnsupportedProtocol).
_RETRYABLE_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryConfig:
    """Retry settings of the client.

    Attributes:
        max_attempts: Attempts per request, the first included; attempts answered 429 do not
            count.
        max_elapsed: Seconds one request may take, waits included, except the waits after
            429s and for the rate budget (back-pressure, bounded by
            ``rate_limited_deadline``); a retry whose wait would cross it is not made.
        backoff_initial: First backoff in seconds (5xx, transport errors, header-less 429).
        backoff_multiplier: Growth of the backoff per attempt.
        backoff_max: Longest single backoff.
        jitter: Random extra share of each backoff (0.5 adds up to 50 %), so concurrent
            workers do not retry in lockstep.
        max_rate_limit_wait: Longest single wait after a 429; a longer wait the server asks
            for is waited in slices of this length, asking again after each.
        rate_limited_deadline: Seconds a request may keep being answered 429, counted from
            its first 429; then it fails with :class:`RateLimitedError`. It also fails at
            once when the server asks for a wait that ends past it. 0 fails at the first 429.
        retry_ambiguous: Retry failures after which MoEngage may already have applied the
            request. True favours delivery (a duplicate is possible); False favours
            exactly-once (the failure surfaces as ambiguous).
        time_scale: Divides the backoffs, to match an emulator running faster than real time
            (waits the server states are real seconds and are never scaled).
        clock: Seconds since the epoch; used for epoch resets and the elapsed budget.
        sleep: Sleeps between attempts (replace in tests).
    """

    max_attempts: int = 6
    max_elapsed: float = 300.0
    backoff_initial: float = 1.0
    backoff_multiplier: float = 2.0
    backoff_max: float = 30.0
    jitter: float = 0.5
    max_rate_limit_wait: float = 120.0
    rate_limited_deadline: float = 1800.0
    retry_ambiguous: bool = True
    time_scale: float = 1.0
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.time_scale <= 0:
            raise ValueError(f"time_scale must be positive, got {self.time_scale}")
        if self.max_rate_limit_wait <= 0:
            raise ValueError(
                f"max_rate_limit_wait must be positive, got {self.max_rate_limit_wait}"
            )
        if self.rate_limited_deadline < 0:
            raise ValueError(
                f"rate_limited_deadline must not be negative, got {self.rate_limited_deadline}"
            )

    def backoff(self, attempt: int, rand: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), jitter included."""
        base = self.backoff_initial * self.backoff_multiplier ** max(attempt - 1, 0)
        base = min(base, self.backoff_max)
        share = random.random() if rand is None else rand
        return base * (1.0 + self.jitter * share) / self.time_scale


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """One retry about to happen, reported to the policy's ``on_retry`` hook.

    Attributes:
        attempt: The attempt that failed (1-based, 429s included).
        error: Its exception (a typed MoEngage error or an ``httpx.TransportError``).
        wait: Seconds until the next attempt.
        ambiguous: The failed attempt may have been applied by MoEngage.
        rate_limited_for: For a 429, seconds since the request's first 429; else None.
    """

    attempt: int
    error: BaseException
    wait: float
    ambiguous: bool
    rate_limited_for: float | None = None


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(float(text), 0.0)
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(moment.timestamp() - now, 0.0)


def parse_rate_limit_reset(value: str | None, *, now: float) -> tuple[float, bool] | None:
    """Read ``x-ratelimit-reset``.

    Returns:
        ``(seconds, relative)``: seconds until the window resets, and whether the header was a
        countdown (True) or an epoch timestamp (False); None when absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number > EPOCH_THRESHOLD:
        if number > _EPOCH_MILLIS_THRESHOLD:
            number /= 1000.0
        return max(number - now, 0.0), False
    return max(number, 0.0), True


def server_wait(headers: Mapping[str, str], *, now: float) -> float | None:
    """Real seconds a 429 response asks us to wait, or None if its headers do not say.

    ``Retry-After`` wins over ``x-ratelimit-reset`` (it is the explicit instruction). Server
    waits are real seconds whatever the emulator's time scale: only our own backoffs scale.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    seconds = parse_retry_after(lowered.get("retry-after"), now=now)
    if seconds is not None:
        return seconds
    reset = parse_rate_limit_reset(lowered.get("x-ratelimit-reset"), now=now)
    return reset[0] if reset is not None else None


def is_ambiguous(error: BaseException) -> bool:
    """True when the failed attempt may have been applied by MoEngage before it failed."""
    if isinstance(error, (*_AMBIGUOUS_TRANSPORT, UnexpectedAnswerError)):
        return True
    return isinstance(error, ServerError) and error.status in _AMBIGUOUS_STATUSES


def is_retryable(error: BaseException) -> bool:
    """True for 429s, 5xx, 2xx answers that are not MoEngage's, and transient transport failures."""
    return isinstance(
        error, (RateLimitedError, ServerError, UnexpectedAnswerError, *_RETRYABLE_TRANSPORT)
    )


class RetryPolicy:
    """Runs one request attempt after another under a :class:`RetryConfig`.

    Args:
        config: The settings.
    """

    def __init__(self, config: RetryConfig | None = None) -> None:
        self.config = config or RetryConfig()

    def __repr__(self) -> str:
        return f"RetryPolicy({self.config!r})"

    def run(
        self,
        attempt: Callable[[], T],
        *,
        on_retry: Callable[[RetryEvent], None] | None = None,
        paced: Callable[[], float] | None = None,
    ) -> T:
        """Call ``attempt`` until it succeeds, fails for good, or the budget runs out.

        Args:
            attempt: Makes one attempt; raises a typed MoEngage error or an httpx error.
            on_retry: Told about each retry before its wait.
            paced: Seconds the attempts so far spent waiting for the rate budget. Like 429s,
                that is back-pressure: it does not count toward ``max_elapsed``.

        Returns:
            What the successful attempt returned.

        Raises:
            RateLimitedError: When 429s outlast ``rate_limited_deadline`` (a new error
                saying so, carrying the last ``retry_after``).
            The last attempt's exception when no retry is left or it is not retryable.
        """
        config = self.config
        started = config.clock()
        made = 0  # attempts made, 429s included
        counted = 0  # attempts that count toward max_attempts: all but 429s
        limited_in_a_row = 0
        first_limited: float | None = None
        rate_limited_waits = 0.0  # waits after 429s: not part of max_elapsed
        while True:
            try:
                return attempt()
            except BaseException as error:
                made += 1
                if not self._should_retry(error):
                    raise
                now = config.clock()
                limited_for = None
                if isinstance(error, RateLimitedError):
                    limited_in_a_row += 1
                    first_limited = now if first_limited is None else first_limited
                    limited_for = now - first_limited
                    wait = self._rate_limited_wait(error, limited_in_a_row, limited_for)
                    rate_limited_waits += wait
                else:
                    limited_in_a_row = 0
                    counted += 1
                    if counted >= config.max_attempts:
                        raise
                    wait = config.backoff(counted)
                    waited = rate_limited_waits + (paced() if paced is not None else 0.0)
                    if now - started - waited + wait > config.max_elapsed:
                        raise
                if on_retry is not None:
                    on_retry(
                        RetryEvent(
                            attempt=made,
                            error=error,
                            wait=wait,
                            ambiguous=is_ambiguous(error),
                            rate_limited_for=limited_for,
                        )
                    )
            config.sleep(wait)

    def _should_retry(self, error: BaseException) -> bool:
        if not is_retryable(error):
            return False
        return self.config.retry_ambiguous or not is_ambiguous(error)

    def _rate_limited_wait(
        self, error: RateLimitedError, in_a_row: int, limited_for: float
    ) -> float:
        """Seconds to wait after a 429, or raise when the deadline forbids waiting."""
        config = self.config
        left = config.rate_limited_deadline - limited_for
        asked = error.retry_after
        if left <= 0 or (asked is not None and asked > left):
            raise _deadline_error(error, config, limited_for, left) from None
        if asked is None:
            wait = config.backoff(in_a_row)
        else:
            # Spread workers that were all told the same reset instant; a long wait is cut
            # into slices so the server is asked again (a reset header may be pessimistic).
            wait = min(asked, config.max_rate_limit_wait) * (1.0 + 0.1 * random.random()) + 0.01
        return min(wait, left)


def _deadline_error(
    error: RateLimitedError, config: RetryConfig, limited_for: float, left: float
) -> RateLimitedError:
    """The error of a request given up after 429s, saying why and what to do."""
    advice = (
        "its budget for this workspace is lower than ours — another app may be using it; "
        "lower the rate budget or raise the deadline (RetryConfig.rate_limited_deadline, "
        f"{config.rate_limited_deadline:g} s)"
    )
    asked = error.retry_after
    if limited_for > 0:
        why = f"MoEngage kept answering 429 for {limited_for:.0f} s"
    else:
        why = "MoEngage answered 429"
    if asked is not None and asked > left:
        why += f", asking to wait {asked:.0f} s more, past the deadline"
    return RateLimitedError(
        error.status,
        f"{why}; {advice}. MoEngage said: {error.message}",
        retry_after=asked,
        rate_limited_for=limited_for,
        endpoint=error.endpoint,
        body=error.body,
    )
