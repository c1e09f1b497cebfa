"""MoEngageClient against the emulator, in-process and over a real loopback socket."""

from __future__ import annotations

import hashlib
import io
import logging
import zipfile
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.exceptions import MoEngageConnectionError
from moengage_pipelines.api.ratebudget import RateBudget, Window
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.server import EmulatorServer
from moengage_pipelines.emulator.settings import EmulatorSettings, RateLimit
from moengage_pipelines.errors import (
    AuthError,
    ConfigError,
    MoEngageError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)
from tests.api.support import (
    CAMPAIGN_KEY,
    DATA_KEY,
    TRANSPORTS,
    WORKSPACE,
    customer,
    emulated,
    event,
    settings,
    transition_body,
)

FAST_RETRY = RetryConfig(backoff_initial=0.001, jitter=0.0, max_attempts=4, max_elapsed=30)


def in_process(emulator: Emulator, **options: object) -> MoEngageClient:
    options.setdefault("retry", FAST_RETRY)
    return MoEngageClient(settings(), transport=emulator.transport(), **options)  # type: ignore[arg-type]


def transition_requests(emulator: Emulator) -> int:
    return emulator.inspect.counters().get("transition", {}).get("requests", 0)


def test_post_transition_delivers_users_and_events(emulator: Emulator) -> None:
    body = transition_body([customer("c1", name="Ann"), event("c1", "Viewed", "Bought")])
    with in_process(emulator) as client:
        answer = client.post_transition(body.payload, users=body.users, events=body.events)
        stats = client.stats
    assert answer["status"] == "success"
    assert emulator.inspect.users()["c1"]["name"] == "Ann"
    assert [e["action"] for e in emulator.inspect.events(customer_id="c1")] == ["Viewed", "Bought"]
    assert (stats.requests, stats.responses, stats.retries) == (1, 1, 0)
    assert stats.bytes_sent == body.size


def test_catalog_round_trip_uses_the_campaign_key_and_appkey(emulator: Emulator) -> None:
    with in_process(emulator) as client:
        catalog_id = client.create_catalog(
            "products",
            price_currency="USD",
            attributes=[
                {"name": name, "type": "string"} for name in ("id", "title", "link", "image_link")
            ],
        )
        assert catalog_id
        added = client.add_catalog_attributes(catalog_id, [{"name": "price", "type": "double"}])
        assert added.get("success") is True
        items = [
            {
                "id": f"p{i}",
                "title": f"P{i}",
                "link": "https://x/p",
                "image_link": "https://x/i",
                "price": float(i),
            }
            for i in range(3)
        ]
        result = client.add_catalog_items(catalog_id, items)
        assert result["message"]["valid"]["count"] == 3
        updated = client.update_catalog_items(
            catalog_id, [{"id": "p1", "attributes": {"title": "New"}}]
        )
        assert updated["message"]["valid"]["count"] == 1
        found = client.search_catalog_items(catalog_id, ["p1"])
        assert [item["title"] for item in found] == ["New"]
        deleted = client.delete_catalog_items(catalog_id, ["p0", "nope"])
        assert deleted["message"]["valid"]["count"] == 1
        assert deleted["message"]["invalid"]["count"] == 1
        with pytest.raises(RequestRejectedError) as missing:
            client.search_catalog_items("0" * 24, ["p1"])
    assert missing.value.status == 404
    assert "catalog-not-found" in missing.value.message


def test_campaign_search_and_stats(emulator: Emulator) -> None:
    with in_process(emulator) as client:
        page = client.search_campaigns({"limit": 15, "page": 1})
        assert page and all("campaign_id" in campaign for campaign in page)
        stats = client.campaign_stats(
            {
                "campaign_ids": [page[0]["campaign_id"]],
                "start_date": "2024-01-01",
                "end_date": "2024-01-20",
                "attribution_type": "CLICK_THROUGH",
                "metric_type": "TOTAL",
            }
        )
    assert "data" in stats and "response_id" in stats


def test_download_report_signs_the_filename(emulator: Emulator) -> None:
    today = datetime.now(UTC).date()
    with httpx.Client(
        transport=emulator.transport(), base_url="https://api-01.moengage.com"
    ) as raw:
        defined = raw.post(
            "/_emulator/reports", json={"name": "Report test", "generated_on": today.isoformat()}
        )
        assert defined.status_code == 201
    filename = f"Report_test_{today:%Y%m%d}.zip"
    with in_process(emulator) as client:
        expected = hashlib.sha256(f"{WORKSPACE}|{filename}|{CAMPAIGN_KEY}".encode()).hexdigest()
        assert client.report_signature(filename) == expected
        content = client.download_report(filename)
        with pytest.raises(ValueError, match="plain file name"):
            client.download_report("../secret.zip")
        with pytest.raises(RequestRejectedError) as unknown:
            client.download_report("Nothing_20000101.zip")
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert any(name.endswith(".csv") for name in archive.namelist())
    assert unknown.value.status == 400
    wrong = settings(campaign_api_key="another-key")
    with (
        MoEngageClient(wrong, transport=emulator.transport(), retry=FAST_RETRY) as client,
        pytest.raises(AuthError) as refused,
    ):
        client.download_report(filename)
    assert refused.value.status == 401


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("credentials", "status", "message"),
    [
        # a key of the other family: MoEngage answers 401 or 403; the emulator says 403
        ({"data_api_key": CAMPAIGN_KEY, "campaign_api_key": DATA_KEY}, 403, "does not have access"),
        ({"data_api_key": "not-a-key"}, 401, "App Secret key mismatch"),
    ],
)
def test_auth_refusals_fail_fast_with_moengage_message(
    transport: str, credentials: dict[str, str], status: int, message: str
) -> None:
    body = transition_body([customer("c1")])
    with emulated(transport, credentials=credentials, retry=FAST_RETRY) as (emulator, client):
        with pytest.raises(AuthError) as raised:
            client.post_transition(body.payload, users=1, events=0)
        assert client.stats.retries == 0
        assert transition_requests(emulator) == 1
    assert raised.value.status == status
    assert message in raised.value.message
    assert not any(key in str(raised.value) for key in credentials.values())


def test_missing_key_is_a_config_error_naming_the_variable(emulator: Emulator) -> None:
    with (
        MoEngageClient(
            settings(campaign_api_key=None), transport=emulator.transport(), retry=FAST_RETRY
        ) as client,
        pytest.raises(ConfigError, match="MOENGAGE_CAMPAIGN_API_KEY"),
    ):
        client.search_campaigns({"limit": 1, "page": 1})


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_bad_request_fails_fast_with_moengage_message(transport: str) -> None:
    with emulated(transport, retry=FAST_RETRY) as (emulator, client):
        with pytest.raises(RequestRejectedError) as raised:
            client.post_transition(b'{"type":"transition","elements":[]}', users=0, events=0)
        assert client.stats.retries == 0
        assert transition_requests(emulator) == 1
    assert raised.value.status == 400
    assert "elements cannot be empty" in raised.value.message


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_payload_too_large_is_not_retried(transport: str) -> None:
    body = transition_body([customer(f"c{i}", blob="x" * 2000) for i in range(60)])
    assert body.size > 102_400
    with emulated(transport, retry=FAST_RETRY) as (emulator, client):
        with pytest.raises(PayloadTooLargeError) as raised:
            client.post_transition(body.payload, users=body.users, events=0)
        assert transition_requests(emulator) == 1
        assert emulator.inspect.users() == {}
    assert raised.value.status == 413


def test_2xx_saying_fail_is_an_error() -> None:
    # The emulator never answers this way; a tiny server stands in for a MoEngage that does.
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json={"status": "fail", "error": {"type": "Blacklisted", "message": "blocked"}}
        )

    transport = httpx.MockTransport(handler)
    with (
        MoEngageClient(settings(), transport=transport, retry=FAST_RETRY) as client,
        pytest.raises(RequestRejectedError) as raised,
    ):
        client.post_transition(b"{}", users=0, events=0)
    assert raised.value.status == 200
    assert raised.value.message == "Blacklisted: blocked"


def test_5xx_is_retried_until_success(emulator: Emulator) -> None:
    emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=503, count=2))
    body = transition_body([customer("c1")])
    trace = RequestTrace()
    with in_process(emulator) as client:
        client.post_transition(body.payload, users=1, events=0, trace=trace)
        stats = client.stats
    assert (trace.attempts, trace.retries, trace.ambiguous_retries) == (3, 2, 0)
    assert stats.http_5xx == 2 and stats.retries == 2
    assert "c1" in emulator.inspect.users()


def test_5xx_outlasting_the_retries_raises_server_error(emulator: Emulator) -> None:
    emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=500))
    with in_process(emulator) as client:
        with pytest.raises(ServerError) as raised:
            client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        assert client.stats.failures == 1
    assert raised.value.status == 500
    assert transition_requests(emulator) == FAST_RETRY.max_attempts


def test_timeout_is_retried_and_counted_as_ambiguous(emulator: Emulator) -> None:
    emulator.faults.add(FaultRule(endpoint="transition", kind="timeout", count=1))
    with in_process(emulator) as client:
        client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        stats = client.stats
    assert stats.transport_errors == 1 and stats.ambiguous_retries == 1
    assert "c1" in emulator.inspect.users()


def test_reset_after_apply_duplicates_events_and_says_so(emulator: Emulator) -> None:
    emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=1))
    body = transition_body([event("c1", "Bought")])
    trace = RequestTrace()
    with in_process(emulator) as client:
        client.post_transition(body.payload, users=0, events=1, trace=trace)
    # The first attempt was applied and its answer lost; the retry applied it again.
    assert len(emulator.inspect.events(customer_id="c1")) == 2
    assert trace.ambiguous_retries == 1


def test_ambiguous_failures_can_be_surfaced_instead_of_retried(emulator: Emulator) -> None:
    emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=1))
    body = transition_body([event("c1", "Bought")])
    retry = RetryConfig(backoff_initial=0.001, retry_ambiguous=False)
    with (
        in_process(emulator, retry=retry) as client,
        pytest.raises(MoEngageConnectionError) as raised,
    ):
        client.post_transition(body.payload, users=0, events=1)
    assert raised.value.ambiguous
    assert len(emulator.inspect.events(customer_id="c1")) == 1


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
    with emulated(
        transport, emulator_settings, budget=RateBudget.unlimited(), retry=retry
    ) as (emulator, client):
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
    retry = RetryConfig(max_rate_limit_wait=5.0)
    with emulated(
        transport, emulator_settings, budget=RateBudget.unlimited(), retry=retry
    ) as (emulator, client):
        client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        with pytest.raises(RateLimitedError) as raised:
            client.post_transition(transition_body([customer("c2")]).payload, users=1, events=0)
        # the wait asked for is longer than allowed: the 429 is not retried
        assert transition_requests(emulator) == 2
        assert set(emulator.inspect.users()) == {"c1"}
    assert raised.value.status == 429
    assert raised.value.retry_after is not None and raised.value.retry_after > 5.0


def test_budget_paces_requests_so_the_server_never_refuses() -> None:
    emulator_settings = EmulatorSettings(
        time_scale=60.0, rate_limits={"transition_users": (RateLimit(20, 60),)}
    )
    with Emulator(emulator_settings) as emulator:
        budget = RateBudget.from_url(
            "memory://",
            namespace="ws",
            time_scale=60.0,
            limits={"transition_users": [Window.per_minute(20)]},
        )
        with MoEngageClient(
            settings(), transport=emulator.transport(), budget=budget, retry=FAST_RETRY
        ) as client:
            for index in range(6):
                body = transition_body([customer(f"u{index}-{i}") for i in range(10)])
                client.post_transition(body.payload, users=10, events=0)
            stats = client.stats
        usage = emulator.inspect.rate_usage()
        users = emulator.inspect.users()
    assert stats.http_429 == 0 and stats.budget_wait_seconds > 0
    pool = next(v for v in usage.values() if v["pool"] == "transition_users")
    assert pool["refused_requests"] == 0 and pool["max_requested"] <= 20
    assert len(users) == 60


def test_over_a_real_socket_with_faults(emulator_server: EmulatorServer) -> None:
    emulator = emulator_server.emulator
    emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=502, count=1))
    emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=1, after=1))
    with MoEngageClient(
        settings(emulator_server.url), retry=FAST_RETRY, budget=RateBudget.unlimited()
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


def test_keys_never_leak_into_errors_reprs_or_logs(
    emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[MoEngageError] = []
    swapped = settings(data_api_key=CAMPAIGN_KEY, campaign_api_key=DATA_KEY)
    clients = [
        in_process(emulator),
        MoEngageClient(swapped, transport=emulator.transport(), retry=FAST_RETRY),
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
    emulator.faults.add(FaultRule(endpoint="transition", kind="error", status=500))
    with pytest.raises(ServerError) as server_error:
        good.post_transition(b"{}", users=0, events=0)
    errors.append(server_error.value)
    emulator.faults.clear()
    emulator.faults.add(FaultRule(endpoint="transition", kind="rate_limit", burst=100))
    impatient = MoEngageClient(
        settings(), transport=emulator.transport(), retry=RetryConfig(max_attempts=1)
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


def test_request_sends_json_with_the_headers_moengage_requires(emulator: Emulator) -> None:
    seen: list[httpx.Request] = []
    inner = emulator.transport()

    class Recording(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return inner.handle_request(request)

    with MoEngageClient(settings(), transport=Recording(), retry=FAST_RETRY) as client:
        client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
        client.search_campaigns({"limit": 1, "page": 1})
    transition, search = seen
    assert transition.headers["content-type"] == "application/json"
    assert "moe-appkey" not in transition.headers
    assert search.headers["moe-appkey"] == WORKSPACE
    assert orjson.loads(search.content)["request_id"]
    assert transition.headers["authorization"] != search.headers["authorization"]


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
