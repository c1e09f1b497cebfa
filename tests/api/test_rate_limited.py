"""429 is back-pressure: waited out until the rate-limited deadline, never counted as attempts."""

from __future__ import annotations

import httpx
import pytest

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.ratebudget import RateBudget
from moengage_pipelines.api.retries import RetryConfig, RetryEvent, RetryPolicy
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.settings import EmulatorSettings, RateLimit
from moengage_pipelines.errors import RateLimitedError, ServerError
from tests.api.support import TRANSPORTS, customer, emulated, transition_body, transition_requests

NOW = 1_700_000_000.0


def _policy(clock: FakeClock, **options: object) -> RetryPolicy:
    return RetryPolicy(RetryConfig(clock=clock, sleep=clock.sleep, **options))  # type: ignore[arg-type]


def _attempts(clock: FakeClock, outcomes: list[object], step: float = 0.0):
    """An attempt function raising or returning ``outcomes`` in turn, each taking ``step`` s."""
    calls: list[float] = []

    def attempt() -> object:
        calls.append(clock.now)
        clock.advance(step)
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return attempt, calls


def _limited(retry_after: float | None = 1.0) -> RateLimitedError:
    return RateLimitedError(429, "Rate limit exceeded", retry_after=retry_after, endpoint="/v1/x")


def test_429s_do_not_count_toward_max_attempts() -> None:
    clock = FakeClock(NOW)
    outcomes: list[object] = [_limited() for _ in range(20)]
    outcomes += [ServerError(503, "a"), ServerError(503, "b"), "ok"]
    attempt, calls = _attempts(clock, outcomes)
    assert _policy(clock, max_attempts=3, jitter=0.0).run(attempt) == "ok"
    # 20 answers 429 and 2 failures: only the 2 failures counted toward the 3 attempts.
    assert len(calls) == 23


def test_429_waits_do_not_count_toward_max_elapsed() -> None:
    clock = FakeClock(NOW)
    outcomes: list[object] = [_limited(60.0) for _ in range(10)] + [ServerError(500, "x"), "ok"]
    attempt, _ = _attempts(clock, outcomes)
    # Ten minutes of 429 waits, far past max_elapsed; the 5xx after them is still retried.
    policy = _policy(clock, max_elapsed=30.0, backoff_initial=2.0, jitter=0.0)
    assert policy.run(attempt) == "ok"
    assert clock.now - NOW > 600
    assert clock.sleeps[-1] == 2.0


def test_rate_limit_budget_waits_do_not_count_toward_max_elapsed() -> None:
    clock = FakeClock(NOW)
    attempt, _ = _attempts(clock, [ServerError(500, "x"), "ok"], step=100.0)
    # The first attempt waited 100 s for the rate budget: back-pressure, not elapsed time.
    policy = _policy(clock, max_elapsed=30.0, backoff_initial=1.0, jitter=0.0)
    assert policy.run(attempt, paced=lambda: 100.0) == "ok"
    without = _policy(clock, max_elapsed=30.0, backoff_initial=1.0, jitter=0.0)
    attempt, _ = _attempts(clock, [ServerError(500, "x"), "ok"], step=100.0)
    with pytest.raises(ServerError):
        without.run(attempt)


def test_a_long_server_wait_is_waited_in_capped_slices() -> None:
    clock = FakeClock(NOW)
    outcomes: list[object] = [_limited(900.0), _limited(600.0), _limited(300.0), "ok"]
    attempt, calls = _attempts(clock, outcomes)
    events: list[RetryEvent] = []
    assert _policy(clock, max_rate_limit_wait=300.0).run(attempt, on_retry=events.append) == "ok"
    assert len(calls) == 4
    assert all(300.0 <= wait <= 300.0 * 1.1 + 0.011 for wait in clock.sleeps)
    assert [event.rate_limited_for is not None for event in events] == [True, True, True]
    assert events[0].rate_limited_for == 0.0 and events[2].rate_limited_for > 600.0


def test_a_429_without_headers_backs_off_exponentially() -> None:
    clock = FakeClock(NOW)
    attempt, _ = _attempts(clock, [_limited(None), _limited(None), _limited(None), "ok"])
    assert _policy(clock, backoff_initial=1.0, jitter=0.0).run(attempt) == "ok"
    assert clock.sleeps == [1.0, 2.0, 4.0]


def test_429s_past_the_deadline_fail_with_advice() -> None:
    clock = FakeClock(NOW)
    attempt, calls = _attempts(clock, [_limited(50.0) for _ in range(100)], step=0.5)
    with pytest.raises(RateLimitedError) as raised:
        _policy(clock, rate_limited_deadline=600.0, max_rate_limit_wait=60.0).run(attempt)
    error = raised.value
    assert 10 <= len(calls) <= 14  # about 600 s of 50 s waits
    assert error.status == 429 and error.endpoint == "/v1/x"
    assert error.rate_limited_for is not None and 550 <= error.rate_limited_for <= 600
    assert "kept answering 429 for" in error.message
    assert "another app may be using it" in error.message
    assert "lower the rate budget or raise the deadline" in error.message
    assert "Rate limit exceeded" in error.message  # MoEngage's own words are kept
    # The last wait was cut short to end at the deadline, not past it.
    assert clock.now - calls[0] <= 600.0 + 0.5


def test_a_server_wait_past_the_deadline_fails_at_once() -> None:
    clock = FakeClock(NOW)
    attempt, calls = _attempts(clock, [_limited(3600.0), "never"])
    with pytest.raises(RateLimitedError) as raised:
        _policy(clock, rate_limited_deadline=1800.0).run(attempt)
    assert len(calls) == 1 and clock.sleeps == []
    assert raised.value.retry_after == 3600.0
    assert "asking to wait 3600 s" in raised.value.message


def test_a_zero_deadline_fails_at_the_first_429() -> None:
    clock = FakeClock(NOW)
    attempt, calls = _attempts(clock, [_limited(0.5), "never"])
    with pytest.raises(RateLimitedError):
        _policy(clock, rate_limited_deadline=0).run(attempt)
    assert len(calls) == 1


def test_rate_limit_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="rate_limited_deadline"):
        RetryConfig(rate_limited_deadline=-1)
    with pytest.raises(ValueError, match="max_rate_limit_wait"):
        RetryConfig(max_rate_limit_wait=0)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_429_storm_longer_than_max_attempts_ends_accepted(transport: str) -> None:
    # Windows of 0.1 s: each 429 asks to wait until the window ends, a fraction of a second.
    emulator_settings = EmulatorSettings(time_scale=600.0)
    retry = RetryConfig(max_attempts=2, backoff_initial=0.001, time_scale=600.0)
    with emulated(transport, emulator_settings, budget=RateBudget.unlimited(), retry=retry) as (
        emulator,
        client,
    ):
        emulator.faults.add(FaultRule(endpoint="transition", kind="rate_limit", burst=7, count=1))
        trace = RequestTrace()
        client.post_transition(
            transition_body([customer("c1")]).payload, users=1, events=0, trace=trace
        )
        assert (trace.attempts, trace.http_429, trace.retries) == (8, 7, 7)
        assert transition_requests(emulator) == 8
        assert "c1" in emulator.inspect.users()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_endless_429s_fail_at_the_deadline_with_advice(transport: str) -> None:
    emulator_settings = EmulatorSettings(time_scale=600.0)
    retry = RetryConfig(max_attempts=2, rate_limited_deadline=0.5, time_scale=600.0)
    with emulated(transport, emulator_settings, budget=RateBudget.unlimited(), retry=retry) as (
        emulator,
        client,
    ):
        emulator.faults.add(FaultRule(endpoint="transition", kind="rate_limit", burst=10_000))
        trace = RequestTrace()
        with pytest.raises(RateLimitedError) as raised:
            client.post_transition(
                transition_body([customer("c1")]).payload, users=1, events=0, trace=trace
            )
        assert emulator.inspect.users() == {}
        # Far more attempts than max_attempts: 429s do not spend them.
        assert trace.attempts == trace.http_429 == transition_requests(emulator)
        assert trace.attempts > retry.max_attempts
    assert raised.value.status == 429
    assert "kept answering 429" in raised.value.message


def test_a_connection_failure_between_429s_still_counts_as_an_attempt() -> None:
    clock = FakeClock(NOW)
    refused = httpx.ConnectError("refused")
    outcomes: list[object] = [_limited(), refused, _limited(), refused, _limited(), "never"]
    attempt, calls = _attempts(clock, outcomes)
    with pytest.raises(httpx.ConnectError):
        _policy(clock, max_attempts=2).run(attempt)
    assert len(calls) == 4


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_hour_long_reset_is_waited_in_slices_until_the_window_turns(transport: str) -> None:
    # The emulator, the budget and the retries share a fake clock: waits take no real time.
    clock = FakeClock(NOW)  # 800 s into an hour: the hour's window resets in 2,800 s
    emulator_settings = EmulatorSettings(
        clock=clock,
        ratelimit_reset="seconds",
        rate_limits={"transition_users": (RateLimit(1, 3600),)},
    )
    retry = RetryConfig(
        max_attempts=2, max_rate_limit_wait=600.0, rate_limited_deadline=7200.0,
        clock=clock, sleep=clock.sleep,
    )  # fmt: skip
    with emulated(transport, emulator_settings, retry=retry) as (emulator, client):
        client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        trace = RequestTrace()
        client.post_transition(
            transition_body([customer("c2")]).payload, users=1, events=0, trace=trace
        )
        assert set(emulator.inspect.users()) == {"c1", "c2"}
    # Five slices of 600 to 660 s, each ending in a fresh 429, then the new hour.
    assert (trace.http_429, trace.attempts) == (5, 6)
    assert clock.now - NOW >= 2800
