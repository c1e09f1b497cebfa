from __future__ import annotations

import email.utils

import httpx
import pytest

from moengage_pipelines.api.retries import (
    RetryConfig,
    RetryEvent,
    RetryPolicy,
    parse_rate_limit_reset,
    parse_retry_after,
    server_wait,
)
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.errors import (
    AuthError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)

NOW = 1_700_000_000.0


def test_reset_header_epoch_and_countdown_are_told_apart() -> None:
    assert parse_rate_limit_reset(str(int(NOW) + 30), now=NOW) == (30.0, False)
    assert parse_rate_limit_reset("30", now=NOW) == (30.0, True)
    # epoch milliseconds
    assert parse_rate_limit_reset(str(int(NOW * 1000) + 5_000), now=NOW) == (5.0, False)
    # a reset already past means "now"
    assert parse_rate_limit_reset(str(int(NOW) - 10), now=NOW) == (0.0, False)
    assert parse_rate_limit_reset("soon", now=NOW) is None
    assert parse_rate_limit_reset(None, now=NOW) is None


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("12", now=NOW) == 12.0
    date = email.utils.formatdate(NOW + 20, usegmt=True)
    assert parse_retry_after(date, now=NOW) == pytest.approx(20.0)
    assert parse_retry_after("not a date", now=NOW) is None


def test_server_wait_prefers_retry_after_over_the_reset_header() -> None:
    headers = {"Retry-After": "6", "x-ratelimit-reset": "50"}
    assert server_wait(headers, now=NOW) == 6.0
    assert server_wait({"x-ratelimit-reset": "0.500"}, now=NOW) == 0.5
    assert server_wait({"X-RateLimit-Reset": str(int(NOW) + 2)}, now=NOW) == 2.0
    assert server_wait({}, now=NOW) is None


def _policy(clock: FakeClock, **options: object) -> RetryPolicy:
    return RetryPolicy(RetryConfig(clock=clock, sleep=clock.sleep, **options))  # type: ignore[arg-type]


def _script(*outcomes: object):
    """An attempt function that raises or returns the given outcomes in turn."""
    remaining = list(outcomes)
    calls = []

    def attempt() -> object:
        calls.append(1)
        outcome = remaining.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    attempt.calls = calls  # type: ignore[attr-defined]
    return attempt


def test_429_waits_as_long_as_the_server_says_then_succeeds() -> None:
    clock = FakeClock(NOW)
    events: list[RetryEvent] = []
    attempt = _script(RateLimitedError(429, "Rate limit exceeded", retry_after=7.0), "ok")
    assert _policy(clock).run(attempt, on_retry=events.append) == "ok"
    assert len(clock.sleeps) == 1
    assert 7.0 <= clock.sleeps[0] <= 7.0 * 1.1 + 0.011
    assert events[0].attempt == 1 and not events[0].ambiguous


def test_5xx_backs_off_exponentially_then_succeeds() -> None:
    clock = FakeClock(NOW)
    attempt = _script(ServerError(500, "x"), ServerError(503, "x"), "ok")
    policy = _policy(clock, backoff_initial=2.0, jitter=0.0)
    assert policy.run(attempt) == "ok"
    assert clock.sleeps == [2.0, 4.0]


def test_backoff_is_capped_and_jittered() -> None:
    config = RetryConfig(backoff_initial=1.0, backoff_max=5.0, jitter=0.5)
    assert config.backoff(10, rand=0.0) == 5.0
    assert config.backoff(10, rand=1.0) == 7.5
    assert RetryConfig(time_scale=10, jitter=0).backoff(1) == 0.1


@pytest.mark.parametrize(
    "error",
    [
        RequestRejectedError(400, "Malformed JSON"),
        AuthError(401, "App Secret key mismatch"),
        AuthError(403, "Account Suspended"),
        RequestRejectedError(404, "catalog-not-found"),
        RequestRejectedError(409, "App key mismatch"),
        RequestRejectedError(415, "Unsupported Media Type"),
        PayloadTooLargeError(413, "Payload too large"),
    ],
)
def test_client_errors_fail_fast_with_the_message(error: Exception) -> None:
    clock = FakeClock(NOW)
    attempt = _script(error, "never")
    with pytest.raises(type(error)) as raised:
        _policy(clock).run(attempt)
    assert raised.value is error
    assert len(attempt.calls) == 1 and clock.sleeps == []


def test_max_attempts_reraises_the_last_error() -> None:
    clock = FakeClock(NOW)
    last = ServerError(502, "bad gateway")
    attempt = _script(ServerError(500, "a"), ServerError(500, "b"), last)
    with pytest.raises(ServerError) as raised:
        _policy(clock, max_attempts=3, jitter=0.0).run(attempt)
    assert raised.value is last
    assert len(attempt.calls) == 3


def test_total_time_budget_stops_before_a_wait_that_would_cross_it() -> None:
    clock = FakeClock(NOW)
    attempt = _script(*(ServerError(500, "x") for _ in range(10)))
    with pytest.raises(ServerError):
        _policy(clock, backoff_initial=4.0, jitter=0.0, max_elapsed=10.0).run(attempt)
    # 4 s then 8 s would reach 12 s > 10 s: only the first wait happens.
    assert clock.sleeps == [4.0]


def test_a_429_asking_too_long_a_wait_surfaces_retry_after() -> None:
    clock = FakeClock(NOW)
    attempt = _script(RateLimitedError(429, "slow down", retry_after=3600.0), "never")
    with pytest.raises(RateLimitedError) as raised:
        _policy(clock, max_rate_limit_wait=60.0).run(attempt)
    assert raised.value.retry_after == 3600.0
    assert clock.sleeps == []


def test_transport_errors_are_retried_and_lost_responses_are_ambiguous() -> None:
    clock = FakeClock(NOW)
    events: list[RetryEvent] = []
    attempt = _script(
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        httpx.ReadTimeout("timed out"),
        ServerError(504, "gateway timeout"),
        ServerError(503, "unavailable"),
        "ok",
    )
    assert _policy(clock, max_attempts=6).run(attempt, on_retry=events.append) == "ok"
    assert [event.ambiguous for event in events] == [False, True, True, True, False]


def test_ambiguous_failures_can_be_refused_a_retry() -> None:
    clock = FakeClock(NOW)
    attempt = _script(httpx.ConnectError("refused"), httpx.ReadError("reset"), "never")
    with pytest.raises(httpx.ReadError):
        _policy(clock, retry_ambiguous=False).run(attempt)
    assert len(attempt.calls) == 2  # the connect failure was still retried


def test_local_protocol_errors_are_not_retried() -> None:
    clock = FakeClock(NOW)
    attempt = _script(httpx.LocalProtocolError("bad header"), "never")
    with pytest.raises(httpx.LocalProtocolError):
        _policy(clock).run(attempt)
    assert len(attempt.calls) == 1
