"""MoEngageClient retries: 5xx, transport failures, ambiguous attempts, 429s; retry views."""

from __future__ import annotations

import dataclasses

import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.exceptions import MoEngageConnectionError
from moengage_pipelines.api.ratebudget import RateBudget
from moengage_pipelines.api.retries import RetryConfig, RetryPolicy
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.server import EmulatorServer
from moengage_pipelines.emulator.settings import EmulatorSettings, RateLimit
from moengage_pipelines.errors import (
    RateLimitedError,
    ServerError,
)
from tests.api.support import (
    FAST_RETRY,
    TRANSPORTS,
    customer,
    emulated,
    event,
    in_process,
    settings,
    transition_body,
    transition_requests,
)


def test_5xx_is_retried_until_success(moengage_emulator: Emulator) -> None:
    moengage_emulator.faults.add(
        FaultRule(endpoint="transition", kind="error", status=503, count=2)
    )
    body = transition_body([customer("c1")])
    trace = RequestTrace()
    with in_process(moengage_emulator) as client:
        client.post_transition(body.payload, users=1, events=0, trace=trace)
        stats = client.stats
    assert (trace.attempts, trace.retries, trace.ambiguous_retries) == (3, 2, 0)
    assert stats.http_5xx == 2 and stats.retries == 2
    assert "c1" in moengage_emulator.inspect.users()


def test_5xx_outlasting_the_retries_raises_server_error(moengage_emulator: Emulator) -> None:
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=500))
    with in_process(moengage_emulator) as client:
        with pytest.raises(ServerError) as raised:
            client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        assert client.stats.failures == 1
    assert raised.value.status == 500
    assert transition_requests(moengage_emulator) == FAST_RETRY.max_attempts


def test_timeout_is_retried_and_counted_as_ambiguous(moengage_emulator: Emulator) -> None:
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="timeout", count=1))
    with in_process(moengage_emulator) as client:
        client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        stats = client.stats
    assert stats.transport_errors == 1 and stats.ambiguous_retries == 1
    assert "c1" in moengage_emulator.inspect.users()


def test_reset_after_apply_duplicates_events_and_says_so(moengage_emulator: Emulator) -> None:
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=1))
    body = transition_body([event("c1", "Bought")])
    trace = RequestTrace()
    with in_process(moengage_emulator) as client:
        client.post_transition(body.payload, users=0, events=1, trace=trace)
    # The first attempt was applied and its answer lost; the retry applied it again.
    assert len(moengage_emulator.inspect.events(customer_id="c1")) == 2
    assert trace.ambiguous_retries == 1


def test_ambiguous_failures_can_be_surfaced_instead_of_retried(moengage_emulator: Emulator) -> None:
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=1))
    body = transition_body([event("c1", "Bought")])
    retry = RetryConfig(backoff_initial=0.001, retry_ambiguous=False)
    with (
        in_process(moengage_emulator, retry=retry) as client,
        pytest.raises(MoEngageConnectionError) as raised,
    ):
        client.post_transition(body.payload, users=0, events=1)
    assert raised.value.ambiguous
    assert len(moengage_emulator.inspect.events(customer_id="c1")) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("reset_style", "retry_after"),
    [("epoch", False), ("seconds", False), ("epoch", True)],
)
def test_429_waits_for_the_reset_then_succeeds(
    transport: str, reset_style: str, retry_after: bool
) -> None:
    emulator_settings = EmulatorSettings(
        time_scale=60.0,
        ratelimit_reset=reset_style,  # type: ignore[arg-type]
        retry_after=retry_after,
        rate_limits={"transition_users": (RateLimit(5, 60),)},
    )
    # A backoff far shorter than the window: only honouring the headers avoids a second 429.
    retry = RetryConfig(backoff_initial=0.0001, jitter=0.0, max_attempts=3, max_elapsed=30)
    with emulated(transport, emulator_settings, budget=RateBudget.unlimited(), retry=retry) as (
        emulator,
        client,
    ):
        first = transition_body([customer(f"a{i}") for i in range(5)])
        client.post_transition(first.payload, users=5, events=0)
        second = transition_body([customer(f"b{i}") for i in range(5)])
        trace = RequestTrace()
        client.post_transition(second.payload, users=5, events=0, trace=trace)
        assert trace.http_429 == 1 and trace.retries == 1
        assert len(emulator.inspect.users()) == 10
        [pool] = emulator.inspect.rate_usage().values()
        assert pool["refused_requests"] == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_429_outlasting_the_retries_carries_retry_after(transport: str) -> None:
    emulator_settings = EmulatorSettings(
        rate_limits={"transition_users": (RateLimit(1, 3600),)}, ratelimit_reset="seconds"
    )
    # A wait past the rate-limited deadline is not waited for: the request fails at once.
    retry = RetryConfig(max_rate_limit_wait=5.0, rate_limited_deadline=5.0)
    with emulated(transport, emulator_settings, budget=RateBudget.unlimited(), retry=retry) as (
        emulator,
        client,
    ):
        client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        with pytest.raises(RateLimitedError) as raised:
            client.post_transition(transition_body([customer("c2")]).payload, users=1, events=0)
        # the wait asked for is longer than allowed: the 429 is not retried
        assert transition_requests(emulator) == 2
        assert set(emulator.inspect.users()) == {"c1"}
    assert raised.value.status == 429
    assert raised.value.retry_after is not None and raised.value.retry_after > 5.0


def test_over_a_real_socket_with_faults(moengage_emulator_server: EmulatorServer) -> None:
    emulator = moengage_emulator_server.emulator
    emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=502, count=1))
    emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=1, after=1))
    with MoEngageClient(
        settings(moengage_emulator_server.url), retry=FAST_RETRY, budget=RateBudget.unlimited()
    ) as client:
        for index in range(3):
            body = transition_body([event(f"c{index}", "Bought")])
            client.post_transition(body.payload, users=0, events=1)
        stats = client.stats
    fired = [rule["fired"] for rule in emulator.inspect.faults()]
    events = [len(emulator.inspect.events(customer_id=f"c{i}")) for i in range(3)]
    assert fired == [1, 1]
    # the 502 and the reset connection were both ambiguous; the reset one was applied twice
    assert stats.ambiguous_retries == 2
    assert stats.transport_errors == 1
    assert events == [1, 2, 1]


def test_connection_refused_is_a_connection_error() -> None:
    retry = RetryConfig(backoff_initial=0.001, max_attempts=2)
    with MoEngageClient(
        settings("http://127.0.0.1:9"), retry=retry, budget=RateBudget.unlimited(), timeout=2
    ) as client:
        with pytest.raises(MoEngageConnectionError) as raised:
            client.post_transition(b"{}", users=0, events=0)
        assert client.stats.transport_errors == 2
    assert not raised.value.ambiguous


def test_a_retry_view_shares_pool_budget_and_counters(moengage_emulator: Emulator) -> None:
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=1))
    body = transition_body([event("c1", "Bought")])
    with in_process(moengage_emulator) as client:
        strict = client.with_retry(dataclasses.replace(client.retry.config, retry_ambiguous=False))
        assert type(strict) is MoEngageClient
        assert strict.budget is client.budget
        assert client.retry.config.retry_ambiguous  # the client keeps its own policy
        with pytest.raises(MoEngageConnectionError) as raised:
            strict.post_transition(body.payload, users=0, events=1)
        assert raised.value.ambiguous
        # Applied once and not sent again by the view's retries.
        assert len(moengage_emulator.inspect.events(customer_id="c1")) == 1
        stats = client.stats
        assert (stats.requests, stats.transport_errors, stats.failures) == (1, 1, 1)
        strict.close()  # the view owns neither the pool nor the budget
        client.post_transition(transition_body([customer("c2")]).payload, users=1, events=0)
        assert strict.stats == client.stats
        assert client.stats.requests == 2
    # The pool is the client's: once the client is closed, the view cannot send either.
    with pytest.raises(RuntimeError, match="closed"):
        strict.post_transition(transition_body([customer("c3")]).payload, users=1, events=0)


def test_a_retry_view_can_retry_more_than_its_client(moengage_emulator: Emulator) -> None:
    moengage_emulator.faults.add(
        FaultRule(endpoint="transition", kind="error", status=503, count=1)
    )
    patient = RetryPolicy(FAST_RETRY)
    with in_process(moengage_emulator, retry=RetryConfig(max_attempts=1)) as client:
        view = client.with_retry(patient)
        assert view.retry is patient
        trace = RequestTrace()
        view.post_transition(
            transition_body([customer("c1")]).payload, users=1, events=0, trace=trace
        )
        assert (trace.attempts, trace.retries) == (2, 1)
        moengage_emulator.faults.add(
            FaultRule(endpoint="transition", kind="error", status=503, count=1)
        )
        with pytest.raises(ServerError):
            client.post_transition(transition_body([customer("c2")]).payload, users=1, events=0)
        assert client.stats.retries == 1  # the view's retry, none of the client's
    assert set(moengage_emulator.inspect.users()) == {"c1"}
