"""MoEngageClient against the emulator: endpoints, auth, headers, refusals, pacing."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import RateBudget, Window
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.settings import EmulatorSettings, RateLimit
from moengage_pipelines.errors import (
    AuthError,
    ConfigError,
    PayloadTooLargeError,
    RequestRejectedError,
)
from tests.api.support import (
    CAMPAIGN_KEY,
    DATA_KEY,
    FAST_RETRY,
    TRANSPORTS,
    WORKSPACE,
    customer,
    emulated,
    event,
    in_process,
    settings,
    transition_body,
    transition_requests,
)


def test_post_transition_delivers_users_and_events(moengage_emulator: Emulator) -> None:
    body = transition_body([customer("c1", name="Ann"), event("c1", "Viewed", "Bought")])
    with in_process(moengage_emulator) as client:
        answer = client.post_transition(body.payload, users=body.users, events=body.events)
        stats = client.stats
    assert answer["status"] == "success"
    assert moengage_emulator.inspect.users()["c1"]["name"] == "Ann"
    events = moengage_emulator.inspect.events(customer_id="c1")
    assert [e["action"] for e in events] == ["Viewed", "Bought"]
    assert (stats.requests, stats.responses, stats.retries) == (1, 1, 0)
    assert stats.bytes_sent == body.size


def test_catalog_round_trip_uses_the_campaign_key_and_appkey(moengage_emulator: Emulator) -> None:
    with in_process(moengage_emulator) as client:
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


def test_campaign_search_and_stats(moengage_emulator: Emulator) -> None:
    with in_process(moengage_emulator) as client:
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


def test_download_report_signs_the_filename(moengage_emulator: Emulator) -> None:
    today = datetime.now(UTC).date()
    with httpx.Client(
        transport=moengage_emulator.transport(), base_url="https://api-01.moengage.com"
    ) as raw:
        defined = raw.post(
            "/_emulator/reports", json={"name": "Report test", "generated_on": today.isoformat()}
        )
        assert defined.status_code == 201
    filename = f"Report_test_{today:%Y%m%d}.zip"
    with in_process(moengage_emulator) as client:
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
        MoEngageClient(wrong, transport=moengage_emulator.transport(), retry=FAST_RETRY) as client,
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


def test_missing_key_is_a_config_error_naming_the_variable(moengage_emulator: Emulator) -> None:
    with (
        MoEngageClient(
            settings(campaign_api_key=None),
            transport=moengage_emulator.transport(),
            retry=FAST_RETRY,
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


def test_request_sends_json_with_the_headers_moengage_requires(moengage_emulator: Emulator) -> None:
    seen: list[httpx.Request] = []
    inner = moengage_emulator.transport()

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
