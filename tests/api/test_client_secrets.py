"""No key or password of MoEngageClient reaches an error, a repr, a log line or a stored body."""

from __future__ import annotations

import base64
import logging
from urllib.parse import quote

import httpx
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.exceptions import MoEngageConnectionError
from moengage_pipelines.api.ratebudget import RateBudget
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.errors import (
    AuthError,
    MoEngageError,
    MoEngageHTTPError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)
from tests.api.support import (
    CAMPAIGN_KEY,
    DATA_KEY,
    FAST_RETRY,
    TRANSPORTS,
    WORKSPACE,
    customer,
    emulated,
    in_process,
    settings,
    transition_body,
)


def test_keys_never_leak_into_errors_reprs_or_logs(
    moengage_emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[MoEngageError] = []
    swapped = settings(data_api_key=CAMPAIGN_KEY, campaign_api_key=DATA_KEY)
    clients = [
        in_process(moengage_emulator),
        MoEngageClient(swapped, transport=moengage_emulator.transport(), retry=FAST_RETRY),
        MoEngageClient(
            settings("http://127.0.0.1:9"),
            retry=RetryConfig(max_attempts=1),
            budget=RateBudget.unlimited(),
        ),
    ]
    good, wrong, unreachable = clients
    calls = [
        lambda: good.post_transition(b'{"type":"transition","elements":[]}', users=0, events=0),
        lambda: good.post_transition(b"{not json", users=0, events=0),
        lambda: good.search_catalog_items("0" * 24, ["x"]),
        lambda: good.post_transition(
            transition_body([customer(f"c{i}", b="x" * 4000) for i in range(30)]).payload,
            users=30,
            events=0,
        ),
        lambda: wrong.post_transition(b"{}", users=0, events=0),
        lambda: wrong.search_campaigns({"limit": 1, "page": 1}),
        lambda: unreachable.post_transition(b"{}", users=0, events=0),
    ]
    for call in calls:
        with pytest.raises(MoEngageError) as raised:
            call()
        errors.append(raised.value)
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=500))
    with pytest.raises(ServerError) as server_error:
        good.post_transition(b"{}", users=0, events=0)
    errors.append(server_error.value)
    moengage_emulator.faults.clear()
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="rate_limit", burst=100))
    impatient = MoEngageClient(
        settings(),
        transport=moengage_emulator.transport(),
        retry=RetryConfig(max_attempts=1, rate_limited_deadline=0),
    )
    clients.append(impatient)
    with pytest.raises(RateLimitedError) as limited:
        impatient.post_transition(transition_body([customer("c")]).payload, users=1, events=0)
    errors.append(limited.value)
    assert {type(e) for e in errors} >= {
        RequestRejectedError,
        PayloadTooLargeError,
        AuthError,
        ServerError,
        RateLimitedError,
        MoEngageConnectionError,
    }
    texts = [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [getattr(e, "body", "") for e in errors]
    texts += [repr(c) for c in clients] + [repr(c.budget) for c in clients]
    texts += [repr(vars(c)) for c in clients]
    texts.append(caplog.text)
    for client in clients:
        client.close()
    for secret in (DATA_KEY, CAMPAIGN_KEY):
        assert not any(secret in text for text in texts)


def test_a_password_in_the_base_url_stays_out_of_reprs_errors_and_budget_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from moengage_pipelines.api.ratebudget import budget_for_workspace, namespace_for

    caplog.set_level(logging.DEBUG)
    secret = "Pr0xyPassw0rd"
    with_password = settings(f"http://gateway:{secret}@127.0.0.1:9")
    with pytest.raises(ValueError) as invalid:  # pydantic's ValidationError
        settings(f"ftp://gateway:{secret}@127.0.0.1:9")
    budget = budget_for_workspace(with_password, store="memory")
    retry = RetryConfig(backoff_initial=0.001, max_attempts=2)
    with MoEngageClient(with_password, retry=retry, budget=budget, timeout=2) as client:
        with pytest.raises(MoEngageConnectionError) as refused:
            client.post_transition(b"{}", users=0, events=0)
        texts = [repr(client), repr(client.budget), str(refused.value), repr(refused.value)]
    texts += [namespace_for(with_password), str(invalid.value), caplog.text]
    assert "gateway:***@127.0.0.1:9" in repr(client)
    # two settings differing only in the password still have their own budgets
    assert namespace_for(with_password) != namespace_for(settings("http://127.0.0.1:9"))
    assert not any(secret in text for text in texts)


def _echoing_server(status: int) -> httpx.MockTransport:
    """A server that quotes the request's credentials back, as a careless proxy may."""

    def handler(request: httpx.Request) -> httpx.Response:
        authorization = request.headers["authorization"]
        token = authorization.removeprefix("Basic ")
        key = base64.b64decode(token).decode().split(":", 1)[1]
        echoed = {
            "status": "fail",
            "title": "Unauthorized",
            "description": f"rejected {authorization} (key {quote(key, safe='')})",
            "headers": dict(request.headers),
            "token": token.rstrip("="),
        }
        return httpx.Response(status, json=echoed)

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("status", [200, 401, 500])
def test_credentials_a_server_echoes_are_scrubbed(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = "k3y/with+special=chars"
    token = base64.b64encode(f"{WORKSPACE}:{key}".encode()).decode("ascii")
    retry = RetryConfig(backoff_initial=0.001, max_attempts=2)
    client = MoEngageClient(
        settings(data_api_key=key), transport=_echoing_server(status), retry=retry
    )
    with client, pytest.raises(MoEngageError) as raised:
        client.post_transition(b"{}", users=0, events=0)
    error = raised.value
    assert isinstance(error, MoEngageHTTPError) and error.status == status
    assert "Basic ***" in error.message and "***" in error.body
    texts = [str(error), repr(error), error.message, error.body, caplog.text]
    forms = [key, quote(key, safe=""), token, token.rstrip("="), f"Basic {token}"]
    for text in texts:
        for form in forms:
            assert form not in text


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("status", [400, 401, 500])
def test_credentials_the_emulator_echoes_stay_out_of_errors_logs_and_traces(
    transport: str, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = base64.b64encode(f"{WORKSPACE}:{DATA_KEY}".encode()).decode("ascii")
    header = f"Basic {token}"
    trace = RequestTrace()
    with emulated(transport, retry=FAST_RETRY) as (emulator, client):
        emulator.faults.add(FaultRule(endpoint="transition", kind="echo_auth", status=status))
        with pytest.raises(MoEngageHTTPError) as raised:
            client.post_transition(
                transition_body([customer("c1")]).payload, users=1, events=0, trace=trace
            )
        fired = emulator.inspect.faults()[0]["fired"]
    error = raised.value
    assert error.status == status and fired == trace.attempts >= 1
    # The server did quote them: the client hid every form.
    assert "Received Authorization: Basic ***" in error.message
    assert f"credentials {WORKSPACE}:***" in error.body
    texts = [str(error), repr(error), error.message, error.body, caplog.text, repr(trace)]
    for text in texts:
        for form in (DATA_KEY, token, token.rstrip("="), header):
            assert form not in text
