"""Fault injection: 5xx, latency, timeouts, resets after applying, 429 bursts."""

from __future__ import annotations

import contextlib

import httpx
import orjson
import pytest

from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.emulator import FaultRule, parse_faults
from moengage_pipelines.emulator.http import Request
from moengage_pipelines.emulator.pytest_plugin import client_for
from moengage_pipelines.errors import ConfigError, MoEngageError
from tests.emulator.conftest import WORKSPACE, campaign_client, customer, data_client, transition

BULK = f"/v1/transition/{WORKSPACE}"


def bulk(client, customer_id: str) -> httpx.Response:
    return client.post(BULK, json=transition(customer(customer_id)))


def test_error_fault_answers_5xx_and_applies_nothing(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("transition", "error", status=503, count=1)])
    failed = bulk(data, "user-1")
    assert failed.status_code == 503
    assert failed.json()["status"] == "fail"
    assert failed.headers["x-emulator-fault"] == "injected"
    assert moengage_emulator.inspect.users() == {}
    assert bulk(data, "user-1").status_code == 200
    assert moengage_emulator.inspect.users() == {"user-1": {}}
    counts = moengage_emulator.inspect.counters()["transition"]
    assert (counts["5xx"], counts["2xx"]) == (1, 1)


def test_error_fault_uses_the_endpoint_envelope(moengage_emulator, campaigns):
    moengage_emulator.faults.set([FaultRule("campaigns_search", "error", status=500)])
    response = campaigns.post(
        "/core-services/v1/campaigns/search", json={"request_id": "r", "limit": 1, "page": 1}
    )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "500 Internal Server Error"


def test_reset_applies_then_loses_the_answer(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("transition", "reset", count=1)])
    with pytest.raises(httpx.ReadError):
        bulk(data, "user-1")
    assert moengage_emulator.inspect.users() == {"user-1": {}}
    assert bulk(data, "user-2").status_code == 200
    counts = moengage_emulator.inspect.counters()["transition"]
    assert counts["reset"] == 1
    assert counts["requests"] == 2


def test_reset_only_hits_successful_requests(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("transition", "reset", count=1)])
    assert data.post(BULK, json=transition()).status_code == 400
    with pytest.raises(httpx.ReadError):
        bulk(data, "user-1")


def test_timeout_applies_nothing(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("transition", "timeout", count=1)])
    with pytest.raises(httpx.ReadTimeout):
        bulk(data, "user-1")
    assert moengage_emulator.inspect.users() == {}
    assert moengage_emulator.inspect.counters()["transition"]["timeout"] == 1


def test_latency_is_added_to_the_answer(moengage_emulator):
    moengage_emulator.faults.set(
        [FaultRule("*", "latency", seconds=0.25), FaultRule("transition", "latency", seconds=0.5)]
    )
    request = Request.build(
        "POST",
        BULK,
        b"",
        [
            ("authorization", httpx.BasicAuth(WORKSPACE, "test-data-key")._auth_header),
            ("content-type", "application/json"),
        ],
        b'{"type":"transition","elements":[{"type":"customer","customer_id":"user-1"}]}',
    )
    response = moengage_emulator.handle(request)
    assert response.status == 200
    assert response.delay == pytest.approx(0.75)


def test_rate_limit_burst_spends_no_budget(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("transition", "rate_limit", after=1, count=1, burst=3)])
    statuses = [bulk(data, f"user-{i}").status_code for i in range(6)]
    assert statuses == [200, 429, 429, 429, 200, 200]
    usage = moengage_emulator.inspect.rate_usage()[f"{WORKSPACE}/transition_users/60s"]
    assert usage["max_requested"] == 3  # only the three answered 200 spent budget
    moengage_emulator.faults.set([FaultRule("transition", "rate_limit")])
    refused = bulk(data, "user-x")
    assert refused.json()["error"]["type"] == "Rate Limits Exceeded"
    assert refused.headers["x-ratelimit-remaining"] == "0"


def test_faults_are_deterministic_for_a_seed(moengage_emulator_factory):
    def run(seed: int) -> list[int]:
        emulator = moengage_emulator_factory(
            fault_seed=seed, faults=(FaultRule("transition", "error", rate=0.5),)
        )
        with data_client(emulator) as client:
            return [bulk(client, f"user-{i}").status_code for i in range(40)]

    first, second, other = run(7), run(7), run(8)
    assert first == second
    assert first != other
    assert 5 < first.count(500) < 35


def test_rules_per_endpoint(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("customer", "error")])
    assert bulk(data, "user-1").status_code == 200
    assert data.post(f"/v1/customer/{WORKSPACE}", json=customer("user-2")).status_code == 500


def test_faults_from_settings_and_description(moengage_emulator_factory):
    emulator = moengage_emulator_factory(
        faults=tuple(parse_faults("transition:error:status=502,count=1"))
    )
    with data_client(emulator) as client:
        assert bulk(client, "user-1").status_code == 502
        assert bulk(client, "user-1").status_code == 200
    (rule,) = emulator.inspect.faults()
    assert (rule["kind"], rule["status"], rule["matched"], rule["fired"]) == ("error", 502, 2, 1)


def test_parse_compact_and_json_forms():
    compact = parse_faults(
        "transition:error:rate=0.1,status=503; *:latency:seconds=0.05;customer:reset:count=1"
    )
    assert compact == [
        FaultRule("transition", "error", rate=0.1, status=503),
        FaultRule("*", "latency", seconds=0.05),
        FaultRule("customer", "reset", count=1),
    ]
    as_json = parse_faults('[{"endpoint": "transition", "kind": "rate_limit", "burst": 2}]')
    assert as_json == [FaultRule("transition", "rate_limit", burst=2)]
    assert parse_faults("  ") == []


@pytest.mark.parametrize(
    "spec",
    [
        "transition",
        "transition:explode",
        "transition:error:rate=2",
        "transition:error:status=404",
        "transition:error:rate",
        "transition:error:bogus=1",
        "[1, 2]",
        "[{",
        "transition:error:rate=abc",
    ],
)
def test_bad_fault_specs_are_refused(spec):
    with pytest.raises(ConfigError):
        parse_faults(spec)


def test_faults_over_the_inspection_api(moengage_emulator):
    with (
        httpx.Client(transport=moengage_emulator.transport(), base_url="http://emulator") as admin,
        data_client(moengage_emulator) as data,
    ):
        assert (
            admin.put(
                "/_emulator/faults",
                json=[{"endpoint": "transition", "kind": "error", "status": 503}],
            ).status_code
            == 200
        )
        assert bulk(data, "user-1").status_code == 503
        added = admin.post("/_emulator/faults", json={"endpoint": "customer", "kind": "error"})
        assert [r["endpoint"] for r in added.json()] == ["transition", "customer"]
        bad = admin.put("/_emulator/faults", json=[{"kind": "nope"}])
        assert bad.status_code == 400
        assert admin.get("/_emulator/faults").json()[0]["fired"] == 1
        assert admin.delete("/_emulator/faults").json() == []
        assert bulk(data, "user-1").status_code == 200


def test_campaign_client_unaffected_by_data_faults(moengage_emulator):
    moengage_emulator.faults.set([FaultRule("transition", "error")])
    with campaign_client(moengage_emulator) as client:
        response = client.post(
            "/core-services/v1/campaigns/search", json={"request_id": "r", "limit": 1, "page": 1}
        )
    assert response.status_code == 200


def test_lost_answers_are_listed_by_request_id(moengage_emulator):
    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="reset", count=2))
    body = orjson.dumps({"type": "transition", "elements": [
        {"type": "event", "customer_id": "c1", "actions": [{"action": "Bought"}]}]})
    with client_for(moengage_emulator, retry=RetryConfig(max_attempts=1)) as client:
        for _ in range(3):
            with contextlib.suppress(MoEngageError):
                client.post_transition(body, users=0, events=1)
    lost = moengage_emulator.inspect.lost_answers()
    events = moengage_emulator.inspect.events()
    assert len(lost) == 2 and len(events) == 3  # applied all three, two answers lost
