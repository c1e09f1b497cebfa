"""The Data APIs' documented rate limits, weights, 429 bodies, 128 KB limits and optional inputs.

Rate windows run with ``time_scale=60`` on a fake clock: a minute's window lasts one fake
second. To reach a limit of thousands quickly, a test first spends most of the window through
the emulator's own limiter (the pool every request of that endpoint spends), then shows over
HTTP that the documented limit is the boundary: the request that fills it passes, the next
is refused, and the window refills.
"""

from __future__ import annotations

import math

import orjson
import pytest

from moengage_pipelines.emulator import DEFAULT_RATE_LIMITS, EmulatorSettings, RateLimit
from tests.emulator.conftest import (
    WORKSPACE,
    action,
    campaign_client,
    customer,
    data_client,
    event,
    transition,
)

Q = {"app_id": WORKSPACE}
SEARCH = "/core-services/v1/campaigns/search"

# Rate limits as MoEngage documents them (rate-limits page, endpoint references).
DOCUMENTED = {
    "customer": [(10_000, 60)],
    "event": [(30_000, 60)],
    "device": [(10_000, 60)],
    "customers_export": [(1_000, 60)],
    "customer_merge": [(1_000, 60)],
    "customer_delete": [(5_000, 60)],
    "transition_users": [(60_000, 60)],
    "transition_events": [(60_000, 60)],
    "campaign_stats": [(100, 60)],
    "campaigns": [(10, 1), (100, 60), (6_000, 3600)],
    "catalog": [(100, 60), (1_000, 3600)],
}


def identifiers(n: int) -> dict:
    return {
        "data": {
            "identifiers": [
                {"identifier_type": "customer_id", "identifier": f"u{i}"} for i in range(n)
            ]
        }
    }


def pairs(n: int) -> dict:
    return {"merge_data": [{"merged_user": f"m{i}", "retained_user": f"r{i}"} for i in range(n)]}


def actions(n: int) -> dict:
    return event("user-1", *(action(f"a{i}") for i in range(n)))


def device(device_id: str) -> dict:
    return {
        "type": "device",
        "customer_id": "user-1",
        "device_id": device_id,
        "attributes": {"platform": "ANDROID", "push_id": f"push-{device_id}"},
    }


def test_default_limits_are_the_documented_values():
    settings = EmulatorSettings()
    for pool, windows in DOCUMENTED.items():
        assert [(w.limit, w.period) for w in settings.limits_of(pool)] == windows, pool
    assert set(DEFAULT_RATE_LIMITS) == set(DOCUMENTED)


@pytest.fixture
def scaled(moengage_emulator_factory, moengage_clock):
    """An emulator with default limits, windows 60 times shorter, at the start of a window."""
    moengage_clock.now = math.floor(moengage_clock.now / 60) * 60
    return moengage_emulator_factory(clock=moengage_clock, time_scale=60)


# (pool, path, query, body of a given weight): events by action, Get User by user, merge by pair.
WEIGHTED = [
    ("event", f"/v1/event/{WORKSPACE}", {}, actions),
    ("customers_export", "/v1/customers/export", Q, identifiers),
    ("customer_merge", "/v1/customer/merge", Q, pairs),
]


@pytest.mark.parametrize(
    ("pool", "path", "query", "body"),
    [
        ("customer", f"/v1/customer/{WORKSPACE}", {}, customer("user-1")),
        ("device", f"/v1/device/{WORKSPACE}", {}, device("d1")),
        (
            "customer_delete",
            "/v1/customer/delete",
            Q,
            {"identity_type": "customer_id", "identity_value": "user-1"},
        ),
    ],
)
def test_per_request_limits_at_their_documented_value(
    scaled, moengage_clock, pool, path, query, body
):
    ((limit, _),) = DOCUMENTED[pool]
    with data_client(scaled) as client:
        client.post(f"/v1/transition/{WORKSPACE}", json=transition(customer("user-1")))
        assert scaled.limiter.acquire(WORKSPACE, pool, limit - 1).allowed
        last = client.post(path, params=query, json=body)
        assert last.status_code != 429, last.text
        assert (last.headers["x-ratelimit-limit"], last.headers["x-ratelimit-remaining"]) == (
            str(limit),
            "0",
        )
        assert client.post(path, params=query, json=body).status_code == 429
        moengage_clock.advance(1.0)  # one scaled minute: the window refills
        assert client.post(path, params=query, json=body).status_code != 429
    usage = scaled.inspect.rate_usage()[f"{WORKSPACE}/{pool}/60s"]
    assert (usage["limit"], usage["max_admitted"], usage["refused_requests"]) == (limit, limit, 1)


@pytest.mark.parametrize(("pool", "path", "query", "weighted"), WEIGHTED)
def test_weighted_limits_spend_one_unit_per_element(
    scaled, moengage_clock, pool, path, query, weighted
):
    ((limit, _),) = DOCUMENTED[pool]
    with data_client(scaled) as client:
        assert scaled.limiter.acquire(WORKSPACE, pool, limit - 3).allowed
        # Four units do not fit in the three left; three do, and fill the window.
        over = client.post(path, params=query, json=weighted(4))
        assert over.status_code == 429
        fits = client.post(path, params=query, json=weighted(3))
        assert fits.status_code == 200, fits.text
        assert fits.headers["x-ratelimit-remaining"] == "0"
        assert client.post(path, params=query, json=weighted(1)).status_code == 429
        moengage_clock.advance(1.0)
        assert client.post(path, params=query, json=weighted(3)).status_code == 200
    usage = scaled.inspect.rate_usage()[f"{WORKSPACE}/{pool}/60s"]
    assert usage["max_admitted"] == limit
    assert usage["per_window"][min(usage["per_window"])]["requested"] == limit + 4 + 1


def test_bulk_import_has_60k_users_and_60k_events_a_minute(scaled, moengage_clock):
    bulk = f"/v1/transition/{WORKSPACE}"
    with data_client(scaled) as client:
        assert scaled.limiter.acquire(WORKSPACE, "transition_users", 60_000 - 2).allowed
        assert scaled.limiter.acquire(WORKSPACE, "transition_events", 60_000 - 5).allowed
        # Two users and five events (actions) fill both pools exactly.
        full = transition(
            customer("user-1"),
            customer("user-2"),
            event("user-1", *(action(f"a{i}") for i in range(3))),
            event("user-2", action("b"), action("c")),
        )
        assert client.post(bulk, json=full).status_code == 200
        assert client.post(bulk, json=transition(customer("user-3"))).status_code == 429
        assert client.post(bulk, json=transition(event("user-1", action("d")))).status_code == 429
        moengage_clock.advance(1.0)
        assert client.post(bulk, json=transition(customer("user-3"))).status_code == 200
    usage = scaled.inspect.rate_usage()
    assert usage[f"{WORKSPACE}/transition_users/60s"]["max_admitted"] == 60_000
    assert usage[f"{WORKSPACE}/transition_events/60s"]["max_admitted"] == 60_000


def test_campaigns_hour_window_of_6000(moengage_emulator_factory, moengage_clock):
    # With the documented 10/s and 100/min the hour can never hold more than 6,000, so the
    # hour window binds only once the shorter windows are lifted; it keeps its default.
    hour = DEFAULT_RATE_LIMITS["campaigns"][2]
    assert (hour.limit, hour.period) == (6_000, 3600)
    moengage_clock.now = math.floor(moengage_clock.now / 3600) * 3600
    emulator = moengage_emulator_factory(
        clock=moengage_clock,
        time_scale=60,
        rate_limits={"campaigns": (RateLimit(100_000, 60), hour)},
    )
    body = {"request_id": "r", "limit": 1, "page": 1}
    with campaign_client(emulator) as client:
        assert emulator.limiter.acquire(WORKSPACE, "campaigns", 5_999).allowed
        last = client.post(SEARCH, json=body)
        assert last.status_code == 200
        assert (last.headers["x-ratelimit-limit"], last.headers["x-ratelimit-remaining"]) == (
            "6000",
            "0",
        )
        moengage_clock.advance(30)  # half a scaled hour later: still the same hour window
        refused = client.post(SEARCH, json=body)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "429 conflict"
        moengage_clock.advance(30)  # the next scaled hour
        assert client.post(SEARCH, json=body).status_code == 200


# -- 429 bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pool", "path", "body"),
    [
        ("customers_export", "/v1/customers/export", identifiers(1)),
        ("customer_merge", "/v1/customer/merge", pairs(1)),
    ],
)
def test_get_user_and_merge_429_bodies(moengage_emulator_factory, moengage_clock, pool, path, body):
    emulator = moengage_emulator_factory(
        clock=moengage_clock, rate_limits={pool: (RateLimit(0, 60),)}
    )
    with data_client(emulator) as client:
        response = client.post(path, params=Q, json=body)
    assert response.status_code == 429
    document = response.json()
    assert len(document["error"].pop("request_id")) == 8
    assert document == {
        "status": "fail",
        "error": {"message": "Rate limit exceeded", "type": "RateLimitError"},
    }
    assert response.headers["x-ratelimit-limit"] == "0"


# -- 128 KB -----------------------------------------------------------------------------------


def padded(document: dict, size: int) -> bytes:
    """The document with a ``pad`` field making it exactly ``size`` bytes of JSON."""
    empty = orjson.dumps({**document, "pad": ""})
    return orjson.dumps({**document, "pad": "x" * (size - len(empty))})


@pytest.mark.parametrize(
    ("path", "query", "document", "message"),
    [
        (f"/v1/event/{WORKSPACE}", {}, actions(1), "Payload size exceeds 128 KB"),
        (f"/v1/device/{WORKSPACE}", {}, device("d1"), "Payload size exceeds 128 KB"),
        ("/v1/customers/export", Q, identifiers(1), "Payload size exceeds 128 KB"),
        (
            "/v1/customer/delete",
            Q,
            {"identity_type": "customer_id", "identity_value": "user-1"},
            "Payload size exceeds 128 KB",
        ),
        ("/v1/customer/merge", Q, pairs(1), "The payload can not exceed 128KB"),
    ],
)
def test_128_kb_limit(moengage_emulator, data, path, query, document, message):
    data.post(f"/v1/transition/{WORKSPACE}", json=transition(customer("user-1")))
    headers = {"Content-Type": "application/json"}
    at_limit = data.post(path, params=query, content=padded(document, 131_072), headers=headers)
    assert at_limit.status_code == 200, at_limit.text
    over = data.post(path, params=query, content=padded(document, 131_073), headers=headers)
    assert over.status_code == 413
    error = over.json()["error"]
    assert (error["type"], error["message"]) == ("PayloadTooLarge", message)


# -- optional inputs --------------------------------------------------------------------------


def test_x_forwarded_for_and_project_code_are_accepted(moengage_emulator, data):
    forwarded = {"X-Forwarded-For": "203.0.113.7, 10.0.0.1"}
    project = {"project_code": "PRJ-1"}
    assert (
        data.post(
            f"/v1/transition/{WORKSPACE}",
            params=project,
            json=transition(customer("user-1", name="Ada")),
            headers=forwarded,
        ).status_code
        == 200
    )
    for path, query, body in (
        (f"/v1/customer/{WORKSPACE}", project, customer("user-2")),
        (f"/v1/event/{WORKSPACE}", project, event("user-1", action("Opened"))),
        (f"/v1/device/{WORKSPACE}", project, device("d1")),
        ("/v1/customers/export", {**Q, **project}, identifiers(1)),
    ):
        response = data.post(path, params=query, json=body, headers=forwarded)
        assert response.status_code == 200, response.text
    # Neither changes where the data goes.
    assert moengage_emulator.inspect.users() == {"user-1": {"name": "Ada"}, "user-2": {}}
    assert [e["action"] for e in moengage_emulator.inspect.events()] == ["Opened"]
    assert list(moengage_emulator.inspect.devices()) == ["d1"]
