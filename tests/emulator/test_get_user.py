"""Get User (``POST /v1/customers/export``) as MoEngage documents it, and the state API behind it.

Every answer here is also validated against the Data API's OpenAPI file.
"""

from __future__ import annotations

import math

import httpx
import pytest

from moengage_pipelines.emulator.ratelimits import RateLimit
from tests.emulator.conformance.openapi import response_errors
from tests.emulator.conftest import WORKSPACE, customer, data_client, transition

EXPORT = "/v1/customers/export"
Q = {"app_id": WORKSPACE}


def ids(*values: str, kind: str = "customer_id") -> list[dict[str, str]]:
    return [{"identifier_type": kind, "identifier": value} for value in values]


def export(client: httpx.Client, *values: str, **data) -> httpx.Response:
    response = client.post(EXPORT, params=Q, json={"data": {"identifiers": ids(*values), **data}})
    assert response_errors("data", response.request, response) == []
    return response


def push(client: httpx.Client, *elements: dict) -> None:
    response = client.post(f"/v1/transition/{WORKSPACE}", json=transition(*elements))
    assert response.status_code == 200


def users_of(response: httpx.Response) -> dict[str, dict]:
    return {
        user["user_attributes"]["customer_id"]: user["user_attributes"]
        for user in response.json()["data"]["users"]
    }


def test_pushed_attributes_come_back_with_types_kept(moengage_emulator, data):
    push(
        data,
        customer("c1", plan="gold", ltv=12.5, visits=3, vip=True, tags=["a", "b"], note=None),
    )
    found = users_of(export(data, "c1"))["c1"]
    assert found["plan"] == "gold"
    assert found["ltv"] == 12.5 and isinstance(found["ltv"], float)
    assert found["visits"] == 3 and isinstance(found["visits"], int)
    assert found["vip"] is True
    assert found["tags"] == ["a", "b"]
    assert found["id"] == moengage_emulator.inspect.user("c1")["moengage_id"]


def test_datetimes_come_back_as_points_in_time_and_other_text_as_sent(data):
    push(
        data,
        customer(
            "c1",
            signup="2024-03-01T05:30:00+05:30",
            birthday="1990-01-02",
            seen="2019-03-12T17:36:05Z",
            odd="2024-15-01",  # month 15: documented to stay a string
            plain="not a date",
        ),
    )
    found = users_of(export(data, "c1"))["c1"]
    assert found["signup"] == "2024-03-01T00:00:00.000Z"
    assert found["birthday"] == "1990-01-02T00:00:00.000Z"
    assert found["seen"] == "2019-03-12T17:36:05.000Z"
    assert found["odd"] == "2024-15-01"
    assert found["plain"] == "not a date"


def test_twenty_users_a_request_with_unknown_ids_listed_as_asked(data):
    known = [f"u{i}" for i in range(15)]
    push(data, *(customer(cid, n=i) for i, cid in enumerate(known)))
    asked = [*known, "ghost-1", "ghost-2", "ghost-3", "ghost-4", "ghost-5"]
    response = export(data, *asked)
    assert response.status_code == 200
    payload = response.json()
    assert (payload["status"], payload["type"]) == ("success", "export_users")
    assert set(users_of(response)) == set(known)
    assert payload["data"]["users_not_found"] == ids(*asked[15:])
    # Only unknown ids: still a 200, with no users.
    nobody = export(data, "ghost-9")
    assert nobody.status_code == 200
    assert nobody.json()["data"] == {"users_not_found": ids("ghost-9"), "users": []}


def test_twenty_one_users_are_refused_before_any_lookup(moengage_emulator, data):
    response = export(data, *(f"u{i}" for i in range(21)))
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["attribute"], error["type"], error["message"]) == (
        "users",
        "LimitBreached",
        "max limit allowed is 20",
    )
    # Nothing was spent from the 1,000-users-a-minute pool.
    usage = moengage_emulator.inspect.rate_usage().get(f"{WORKSPACE}/customers_export/60s")
    assert usage is None or usage["max_requested"] == 0


def test_fields_to_export_select_attributes_and_the_id_is_always_there(data):
    push(data, customer("c1", plan="gold", city="Pune", signup="2024-01-01"))
    found = users_of(export(data, "c1", user_fields_to_export=["customer_id", "signup"]))["c1"]
    assert set(found) == {"customer_id", "signup", "id"}
    assert found["signup"] == "2024-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ((WORKSPACE, "wrong-key"), "App Secret key mismatch"),
        (None, "Authentication Header Required"),
    ],
)
def test_wrong_or_missing_key_is_401_and_never_echoed(moengage_emulator, auth, message):
    with httpx.Client(
        transport=moengage_emulator.transport(), base_url="https://api-01.moengage.com", auth=auth
    ) as client:
        response = client.post(EXPORT, params=Q, json={"data": {"identifiers": ids("c1")}})
    assert response.status_code == 401
    assert message in response.json()["error"]["message"]
    assert "wrong-key" not in response.text
    assert response_errors("data", response.request, response) == []


def test_one_thousand_users_a_minute_then_429_until_the_window_moves(
    moengage_emulator_factory, moengage_clock
):
    moengage_clock.now = math.floor(moengage_clock.now / 60) * 60
    emulator = moengage_emulator_factory(clock=moengage_clock)
    with data_client(emulator) as client:
        for request in range(50):  # 50 x 20 = 1,000 users
            assert export(client, *(f"u{request}-{i}" for i in range(20))).status_code == 200
        refused = export(client, "one-more")
        assert refused.status_code == 429
        assert refused.json()["error"]["type"] == "RateLimitError"
        moengage_clock.advance(60)
        assert export(client, "one-more").status_code == 200
    usage = emulator.inspect.rate_usage()[f"{WORKSPACE}/customers_export/60s"]
    assert (usage["limit"], usage["max_admitted"], usage["refused_requests"]) == (1_000, 1_000, 1)


def test_the_budget_counts_users_not_requests(moengage_emulator_factory, moengage_clock):
    emulator = moengage_emulator_factory(
        clock=moengage_clock, rate_limits={"customers_export": (RateLimit(25, 60),)}
    )
    with data_client(emulator) as client:
        assert export(client, *(f"u{i}" for i in range(20))).status_code == 200
        assert export(client, *(f"v{i}" for i in range(6))).status_code == 429
        assert export(client, *(f"v{i}" for i in range(5))).status_code == 200


# -- the state API: what MoEngage holds, changed from outside ------------------------------------


def test_state_api_changes_what_get_user_returns(moengage_emulator, data):
    push(data, customer("c1", plan="gold", city="Pune"))
    after = moengage_emulator.inspect.set_user_attributes("c1", {"plan": "silver", "city": None})
    assert after == {"plan": "silver"}
    found = users_of(export(data, "c1"))["c1"]
    assert found["plan"] == "silver" and "city" not in found
    with pytest.raises(KeyError, match="ghost"):
        moengage_emulator.inspect.set_user_attributes("ghost", {"plan": "x"})


def test_state_api_over_http(moengage_emulator_server):
    with httpx.Client(
        base_url=moengage_emulator_server.url, auth=(WORKSPACE, "test-data-key")
    ) as c:
        push(c, customer("c1", plan="gold"))
        changed = c.patch("/_emulator/users/c1", json={"plan": "bronze", "since": "2024-05-01"})
        assert changed.status_code == 200
        assert changed.json() == {"plan": "bronze", "since": "2024-05-01"}
        user = c.get("/_emulator/users/c1").json()
        assert user["attribute_types"]["since"] == "datetime"
        # A loopback URL is no server of the spec: the answer is read, not validated, here.
        answer = c.post(EXPORT, params=Q, json={"data": {"identifiers": ids("c1")}})
        assert users_of(answer)["c1"]["plan"] == "bronze"
        assert c.patch("/_emulator/users/ghost", json={"plan": "x"}).status_code == 404
        assert c.patch("/_emulator/users/c1", json=["plan"]).status_code == 400
