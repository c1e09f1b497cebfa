"""Failing fast where nothing can succeed: refusals of the request as built, unreachable hosts."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import orjson
import pytest

from moengage_pipelines.api.circuit import CircuitBreaker
from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.exceptions import MoEngageConnectionError, MoEngageUnreachableError
from moengage_pipelines.api.ratebudget import RateBudget
from moengage_pipelines.api.retries import RetryConfig, is_ambiguous
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.server import serve
from moengage_pipelines.errors import RequestRejectedError
from tests.api.support import (
    FAST_RETRY,
    TRANSPORTS,
    customer,
    emulated,
    settings,
    transition_body,
    transition_requests,
)

# -- refusals of the request itself ------------------------------------------------------------

_GOOD = customer("c1")


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("body", "headers", "client_side", "message"),
    [
        # the request as built: every request built the same way meets the same refusal
        (b"{not json", None, True, "Malformed JSON"),
        (b'["a list"]', None, True, "A valid JSON document is required"),
        (b'{"elements": [{"type": "customer"}]}', None, True, "type is not found"),
        (b'{"type": "bulk", "elements": []}', None, True, "type should be transition"),
        (b'{"type": "transition"}', None, True, "elements is not found"),
        (b'{"type": "transition", "elements": []}', None, True, "elements cannot be empty"),
        (orjson.dumps({"type": "transition", "elements": [_GOOD]}), {"Content-Type": "text/csv"},
         True, "not supported"),
        # the data of one body: another body may well be accepted
        (orjson.dumps({"type": "transition", "elements": [_GOOD, {"type": "user"}]}), None,
         False, "type in elements should be customer/event/device"),
        (orjson.dumps({"type": "transition", "elements": [_GOOD, {"type": "customer"}]}), None,
         False, "customer_id is not found"),
        (orjson.dumps({"type": "transition", "elements": [
            _GOOD, {"type": "event", "customer_id": "c1", "actions": [{"action": ""}]}]}), None,
         False, "action"),
    ],
)  # fmt: skip
def test_a_refusal_of_the_request_itself_is_told_from_a_refusal_of_its_data(
    transport: str,
    body: bytes,
    headers: dict[str, str] | None,
    client_side: bool,
    message: str,
) -> None:
    with emulated(transport, retry=FAST_RETRY) as (emulator, client):
        with pytest.raises(RequestRejectedError) as raised:
            client.request(
                "POST",
                f"/v1/transition/{emulator.settings.workspace_id}",
                key_family="data",
                content=body,
                headers=headers,
                expected="object",
            )
        assert transition_requests(emulator) == 1  # refused at once, never retried
    assert raised.value.client_side is client_side
    assert message in raised.value.message


def test_a_refused_account_is_a_refusal_of_every_request() -> None:
    with emulated("in_process", retry=FAST_RETRY) as (emulator, client):
        emulator.accounts.set("blacklisted")
        with pytest.raises(RequestRejectedError) as raised:
            client.post_transition(transition_body([_GOOD]).payload, users=1, events=0)
    assert raised.value.status == 400 and raised.value.client_side
    assert "blacklisted" in raised.value.message


# -- an unreachable host -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _blackhole() -> Iterator[str]:
    """A loopback address whose connections never complete, like a firewall dropping SYNs.

    A listening socket that never accepts, with the smallest backlog, whose queue is filled
    first: the kernel then drops further handshakes and a client's connect times out.
    """
    with ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(4):
            filler = stack.enter_context(socket.socket())
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        yield f"http://127.0.0.1:{port}"


@contextmanager
def _refusing() -> Iterator[str]:
    """A loopback port nothing listens on: every connection is refused."""
    yield f"http://127.0.0.1:{_free_port()}"


UNREACHABLE = {"refused": _refusing, "blackholed": _blackhole}


@pytest.mark.parametrize("kind", sorted(UNREACHABLE))
def test_an_unreachable_host_opens_the_circuit_after_four_connection_failures(kind: str) -> None:
    retry = RetryConfig(max_attempts=6, backoff_initial=0.001, jitter=0.0)
    with (
        UNREACHABLE[kind]() as url,
        MoEngageClient(
            settings(url),
            retry=retry,
            budget=RateBudget.unlimited(),
            timeout=5.0,
            connect_timeout=0.2,
        ) as client,
    ):
        traces = [RequestTrace() for _ in range(5)]
        errors = []
        for trace in traces:
            with pytest.raises(MoEngageUnreachableError) as raised:
                client.post_transition(b"{}", users=0, events=0, trace=trace)
            errors.append(raised.value)
        stats = client.stats
    # The first request made the four attempts that opened the circuit; the others none.
    assert [trace.attempts for trace in traces] == [4, 0, 0, 0, 0]
    assert stats.requests == stats.transport_errors == 4
    assert stats.unreachable == stats.failures == 5
    first = errors[0]
    assert isinstance(first, MoEngageConnectionError) and not first.ambiguous
    assert not is_ambiguous(first)
    assert first.host == url and first.failures == 4
    expected = "ConnectTimeout" if kind == "blackholed" else "ConnectError"
    assert first.cause.startswith(expected)
    assert url in str(first) and "nothing was sent" in str(first)


def test_the_circuit_counts_failures_across_threads_and_an_answer_closes_it(
    moengage_emulator: Emulator,
) -> None:
    clock = FakeClock()
    circuit = CircuitBreaker(threshold=3, probe_after=30.0, clock=clock)
    retry = RetryConfig(max_attempts=2, backoff_initial=0.001)
    with serve(moengage_emulator) as up, _refusing() as down:
        unreachable = MoEngageClient(
            settings(down), retry=retry, budget=RateBudget.unlimited(), circuit=circuit
        )
        reachable = MoEngageClient(
            settings(up), retry=retry, budget=RateBudget.unlimited(), circuit=circuit
        )
        with unreachable, reachable:
            # Two failed connections, then an answer: the count starts again.
            with pytest.raises(MoEngageConnectionError) as first:
                unreachable.post_transition(b"{}", users=0, events=0)
            assert not isinstance(first.value, MoEngageUnreachableError)
            reachable.post_transition(transition_body([_GOOD]).payload, users=1, events=0)
            assert not circuit.is_open
            with pytest.raises(MoEngageConnectionError):
                unreachable.post_transition(b"{}", users=0, events=0)
            assert not circuit.is_open  # 2 in a row, below the threshold
            with pytest.raises(MoEngageUnreachableError):
                unreachable.post_transition(b"{}", users=0, events=0)
            assert circuit.is_open
            # Open: even the reachable host is not tried (one client has one host).
            with pytest.raises(MoEngageUnreachableError):
                reachable.post_transition(transition_body([_GOOD]).payload, users=1, events=0)
            assert transition_requests(moengage_emulator) == 1
            # After probe_after, one request goes through; its answer closes the circuit.
            clock.advance(30.0)
            reachable.post_transition(transition_body([customer("c2")]).payload, users=1, events=0)
            assert not circuit.is_open
    assert set(moengage_emulator.inspect.users()) == {"c1", "c2"}


def test_a_failed_probe_opens_the_circuit_again() -> None:
    clock = FakeClock()
    circuit = CircuitBreaker(threshold=1, probe_after=10.0, clock=clock)
    with (
        _refusing() as down,
        MoEngageClient(
            settings(down),
            retry=RetryConfig(max_attempts=3, backoff_initial=0.001),
            budget=RateBudget.unlimited(),
            circuit=circuit,
        ) as client,
    ):
        for advance, attempts in [(0.0, 1), (5.0, 0), (5.0, 1), (1.0, 0)]:
            clock.advance(advance)
            trace = RequestTrace()
            with pytest.raises(MoEngageUnreachableError):
                client.post_transition(b"{}", users=0, events=0, trace=trace)
            assert trace.attempts == attempts


def test_connects_get_their_own_shorter_timeout() -> None:
    with MoEngageClient(
        settings("http://127.0.0.1:9"), budget=RateBudget.unlimited(), timeout=30.0
    ) as client:
        timeout = client._http.timeout
    assert (timeout.connect, timeout.read, timeout.write) == (10.0, 30.0, 30.0)
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker(threshold=0)
