"""Rate limits per workspace, shared by all clients, with usage per window."""

from __future__ import annotations

import math

import pytest

from moengage_pipelines.emulator import EmulatorSettings, RateLimit
from moengage_pipelines.emulator.ratelimits import RateLimiter
from moengage_pipelines.errors import ConfigError
from tests.emulator.conftest import (
    WORKSPACE,
    action,
    campaign_client,
    customer,
    data_client,
    event,
    transition,
)

BULK = f"/v1/transition/{WORKSPACE}"
SEARCH = "/core-services/v1/campaigns/search"
STATS = "/core-services/v1/campaign-stats"
SEARCH_BODY = {"request_id": "r", "limit": 1, "page": 1}


def users(n: int, start: int = 0) -> dict:
    return transition(*(customer(f"user-{start + i}") for i in range(n)))


def test_bulk_budget_is_weighted_by_users_and_events(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(
        clock=moengage_clock,
        rate_limits={
            "transition_users": (RateLimit(10, 60),),
            "transition_events": (RateLimit(6, 60),),
        },
    )
    with data_client(emulator) as client:
        assert client.post(BULK, json=users(6)).status_code == 200
        first = client.post(BULK, json=users(4, 6))
        assert first.status_code == 200
        assert first.headers["x-ratelimit-limit"] == "10"
        assert first.headers["x-ratelimit-remaining"] == "0"
        refused = client.post(BULK, json=users(1, 10))
        assert refused.status_code == 429
        # Events have their own pool: three actions still fit.
        events = transition(event("user-0", action("a"), action("b"), action("c")))
        assert client.post(BULK, json=events).status_code == 200
        # A body needing 4 more events than left is refused whole: nothing of it applied.
        mixed = transition(
            customer("late-user"), event("user-0", *(action(str(i)) for i in range(4)))
        )
        assert client.post(BULK, json=mixed).status_code == 429
    assert "late-user" not in emulator.inspect.users()
    assert len(emulator.inspect.users()) == 10
    assert len(emulator.inspect.events()) == 3
    usage = emulator.inspect.rate_usage()
    assert usage[f"{WORKSPACE}/transition_users/60s"]["max_admitted"] == 10
    assert usage[f"{WORKSPACE}/transition_users/60s"]["max_requested"] == 12
    assert usage[f"{WORKSPACE}/transition_events/60s"]["refused_requests"] == 1
    assert emulator.inspect.counters()["transition"]["429"] == 2


def test_window_refills_after_its_scaled_length(moengage_emulator_factory, moengage_clock):
    # time_scale 60: the minute's budget refills every (fake) second.
    emulator = moengage_emulator_factory(
        clock=moengage_clock, time_scale=60, rate_limits={"transition_users": (RateLimit(5, 60),)}
    )
    moengage_clock.now = math.floor(moengage_clock.now)
    with data_client(emulator) as client:
        assert client.post(BULK, json=users(5)).status_code == 200
        assert client.post(BULK, json=users(1, 5)).status_code == 429
        moengage_clock.advance(0.999)
        assert client.post(BULK, json=users(1, 5)).status_code == 429
        moengage_clock.advance(0.002)
        assert client.post(BULK, json=users(5, 5)).status_code == 200
    usage = emulator.inspect.rate_usage()[f"{WORKSPACE}/transition_users/60s"]
    assert usage["windows"] == 2
    assert usage["max_admitted"] == 5
    assert [w["admitted"] for w in usage["per_window"].values()] == [5, 5]


def test_budget_is_shared_by_every_client_of_a_workspace(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(
        clock=moengage_clock, rate_limits={"customer": (RateLimit(3, 60),)}
    )
    with data_client(emulator) as one, data_client(emulator) as two:
        statuses = [
            client.post(f"/v1/customer/{WORKSPACE}", json=customer(f"user-{i}")).status_code
            for i, client in enumerate([one, two, one, two])
        ]
    assert statuses == [200, 200, 200, 429]


def test_workspaces_have_separate_budgets(moengage_emulator_factory, moengage_clock):
    from moengage_pipelines.emulator import WorkspaceKeys

    emulator = moengage_emulator_factory(
        clock=moengage_clock,
        rate_limits={"customer": (RateLimit(1, 60),)},
        extra_workspaces={"OTHER": WorkspaceKeys("other-data", "other-campaign")},
    )
    with data_client(emulator) as client:
        assert client.post(f"/v1/customer/{WORKSPACE}", json=customer("user-1")).status_code == 200
        assert client.post(f"/v1/customer/{WORKSPACE}", json=customer("user-2")).status_code == 429
        other = client.post(
            "/v1/customer/OTHER", json=customer("user-1"), auth=("OTHER", "other-data")
        )
        assert other.status_code == 200


@pytest.mark.parametrize(
    ("path", "pool", "body", "expected"),
    [
        (
            f"/v1/customer/{WORKSPACE}",
            "customer",
            customer("user-1"),
            {
                "status": "fail",
                "error": {"message": "Rate limit exceeded", "type": "RateLimitError"},
            },
        ),
        (
            f"/v1/event/{WORKSPACE}",
            "event",
            event("user-1", action("a")),
            {
                "status": "fail",
                "error": {
                    "message": "Rate limits for customers exceeded. Please Try After Some Time",
                    "type": "Rate Limits Exceeded",
                },
            },
        ),
        (
            "/v1/customer/delete",
            "customer_delete",
            {"identity_type": "customer_id", "identity_value": "user-1"},
            {
                "status": "fail",
                "title": "Rate limit exceeded",
                "description": "Exceeded rate limit for this url",
            },
        ),
    ],
)
def test_endpoint_specific_429_bodies(
    moengage_emulator_factory, moengage_clock, path, pool, body, expected
):
    emulator = moengage_emulator_factory(
        clock=moengage_clock, rate_limits={pool: (RateLimit(0, 60),)}
    )
    with data_client(emulator) as client:
        response = client.post(path, json=body, params={"app_id": WORKSPACE})
    assert response.status_code == 429
    payload = response.json()
    if "error" in payload:
        assert len(payload["error"].pop("request_id")) == 8
    assert payload == expected
    assert response.headers["x-ratelimit-remaining"] == "0"


def test_campaigns_429_body_and_multiple_windows(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(clock=moengage_clock)
    moengage_clock.now = (
        math.floor(moengage_clock.now / 3600) * 3600
    )  # start of an hour: all windows fresh
    with campaign_client(emulator) as client:
        statuses = [client.post(SEARCH, json=SEARCH_BODY).status_code for _ in range(11)]
        assert statuses == [200] * 10 + [429]
        refused = client.post(SEARCH, json=SEARCH_BODY)
        error = refused.json()["error"]
        assert (error["code"], error["message"], error["details"]) == (
            "429 conflict",
            "rate_limit",
            [{"target": "rate_limit", "message": "Rate limiting breached"}],
        )
        # 10 a second, but only 100 a minute.
        sent = 10
        for _ in range(12):
            moengage_clock.advance(1)
            for _ in range(10):
                sent += client.post(SEARCH, json=SEARCH_BODY).status_code == 200
    assert sent == 100
    usage = emulator.inspect.rate_usage()
    assert usage[f"{WORKSPACE}/campaigns/60s"]["max_admitted"] == 100
    assert usage[f"{WORKSPACE}/campaigns/1s"]["max_admitted"] == 10


def test_campaign_stats_100_per_minute(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(clock=moengage_clock)
    moengage_clock.now = math.floor(moengage_clock.now / 60) * 60
    body = {
        "request_id": "r",
        "start_date": "2024-01-01",
        "end_date": "2024-01-02",
        "attribution_type": "VIEW_THROUGH",
        "metric_type": "TOTAL",
    }
    with campaign_client(emulator) as client:
        statuses = [client.post(STATS, json=body).status_code for _ in range(101)]
    assert statuses.count(200) == 100
    assert statuses[-1] == 429


def test_reset_header_epoch_and_seconds(moengage_emulator_factory, moengage_clock):
    moengage_clock.now = 1_700_000_030.0  # 50 s into a minute
    epoch = moengage_emulator_factory(clock=moengage_clock)
    seconds = moengage_emulator_factory(clock=moengage_clock, ratelimit_reset="seconds")
    with data_client(epoch) as a, data_client(seconds) as b:
        assert a.post(BULK, json=users(1)).headers["x-ratelimit-reset"] == "1700000040"
        assert b.post(BULK, json=users(1)).headers["x-ratelimit-reset"] == "10"


def test_reset_header_keeps_milliseconds_when_scaled(moengage_emulator_factory, moengage_clock):
    moengage_clock.now = 1_700_000_000.25
    emulator = moengage_emulator_factory(
        clock=moengage_clock, time_scale=60, ratelimit_reset="seconds"
    )
    with data_client(emulator) as client:
        assert client.post(BULK, json=users(1)).headers["x-ratelimit-reset"] == "0.750"


def test_retry_after_only_when_configured(moengage_emulator_factory, moengage_clock):
    moengage_clock.now = 1_700_000_030.0
    plain = moengage_emulator_factory(
        clock=moengage_clock, rate_limits={"customer": (RateLimit(0, 60),)}
    )
    with_header = moengage_emulator_factory(
        clock=moengage_clock, retry_after=True, rate_limits={"customer": (RateLimit(0, 60),)}
    )
    with data_client(plain) as a, data_client(with_header) as b:
        assert (
            "retry-after"
            not in a.post(f"/v1/customer/{WORKSPACE}", json=customer("user-1")).headers
        )
        assert (
            b.post(f"/v1/customer/{WORKSPACE}", json=customer("user-1")).headers["retry-after"]
            == "10"
        )


def test_limits_can_be_switched_off_but_usage_is_kept(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(
        clock=moengage_clock,
        rate_limits_enabled=False,
        rate_limits={"customer": (RateLimit(1, 60),)},
    )
    with data_client(emulator) as client:
        for i in range(3):
            assert (
                client.post(f"/v1/customer/{WORKSPACE}", json=customer(f"user-{i}")).status_code
                == 200
            )
    assert emulator.inspect.rate_usage()[f"{WORKSPACE}/customer/60s"]["max_requested"] == 3


def test_validation_errors_spend_nothing(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(clock=moengage_clock)
    with data_client(emulator) as client:
        assert client.post(BULK, json=transition()).status_code == 400
    assert emulator.inspect.rate_usage() == {}


def test_catalog_pool_is_ready_for_the_catalog_endpoints(moengage_clock):
    limiter = RateLimiter(EmulatorSettings(clock=moengage_clock), moengage_clock)
    moengage_clock.now = math.floor(moengage_clock.now / 3600) * 3600
    assert [w.limit for w in limiter.windows_of("catalog")] == [100, 1000]
    allowed = [limiter.acquire(WORKSPACE, "catalog").allowed for _ in range(101)]
    assert allowed.count(True) == 100


def test_unknown_pool_in_settings_is_refused():
    with pytest.raises(ConfigError, match="unknown rate-limit pools"):
        EmulatorSettings(rate_limits={"nope": (RateLimit(1, 1),)})
