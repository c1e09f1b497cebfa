"""Authentication, key families, MOE-APPKEY, data centres, Content-Type, unknown paths."""

from __future__ import annotations

import base64

import httpx
import pytest

from moengage_pipelines.emulator import WorkspaceKeys
from tests.emulator.conftest import (
    CAMPAIGN_KEY,
    DATA_KEY,
    WORKSPACE,
    customer,
    data_client,
    transition,
)

BULK = f"/v1/transition/{WORKSPACE}"
SEARCH = "/core-services/v1/campaigns/search"
STATS = "/core-services/v1/campaign-stats"
BODY = transition(customer("user-1"))
SEARCH_BODY = {"request_id": "r1", "limit": 5, "page": 1}


def raw_client(emulator, base_url="https://api-01.moengage.com") -> httpx.Client:
    return httpx.Client(transport=emulator.transport(), base_url=base_url)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Authentication Header Required"),
        (
            {"Authorization": "Bearer abc"},
            "Invalid authorization used. MoEngage only supports 'Basic Auth' authorization.",
        ),
        (
            {"Authorization": "Basic !!!notbase64"},
            "Invalid authorization used. MoEngage only supports 'Basic Auth' authorization.",
        ),
        (
            {"Authorization": basic("OTHER_WORKSPACE", DATA_KEY)},
            "Invalid APP_ID used in Authentication Header",
        ),
        (
            {"Authorization": basic(WORKSPACE, "wrong-key")},
            "App Secret key mismatch. Please login to the dashboard to verify key",
        ),
    ],
)
def test_data_api_401s(moengage_emulator, headers, message):
    with raw_client(moengage_emulator) as client:
        response = client.post(BULK, json=BODY, headers=headers)
    assert response.status_code == 401
    error = response.json()["error"]
    assert (error["type"], error["message"]) == ("Authentication required", message)
    assert moengage_emulator.inspect.users() == {}


def test_campaign_key_on_data_api_is_403(moengage_emulator):
    with raw_client(moengage_emulator) as client:
        response = client.post(
            BULK, json=BODY, headers={"Authorization": basic(WORKSPACE, CAMPAIGN_KEY)}
        )
    assert response.status_code == 403
    assert response.json()["status"] == "fail"
    assert moengage_emulator.inspect.counters()["transition"]["403"] == 1


def test_data_key_on_campaign_apis_is_403(moengage_emulator):
    headers = {"Authorization": basic(WORKSPACE, DATA_KEY), "MOE-APPKEY": WORKSPACE}
    with raw_client(moengage_emulator) as client:
        search = client.post(SEARCH, json=SEARCH_BODY, headers=headers)
        stats = client.post(STATS, json={}, headers=headers)
    assert search.status_code == 403
    assert search.json()["error"]["code"].startswith("403")
    assert stats.status_code == 403
    assert stats.json()["title"] == "Forbidden Request"


def test_campaign_api_unknown_key_is_401_in_its_envelope(moengage_emulator):
    headers = {"Authorization": basic(WORKSPACE, "nope"), "MOE-APPKEY": WORKSPACE}
    with raw_client(moengage_emulator) as client:
        search = client.post(SEARCH, json=SEARCH_BODY, headers=headers)
        stats = client.post(STATS, json={}, headers=headers)
    assert search.status_code == 401
    assert search.json()["error"]["details"][0]["target"] == "APP_SECRET_KEY"
    assert stats.status_code == 401
    assert stats.json() | {"code": "x"} == {
        "title": "Authentication required",
        "description": "Invalid identity information found.",
        "code": "x",
    }


def test_moe_appkey_optional_on_data_apis_but_must_match(moengage_emulator, data):
    assert data.post(BULK, json=BODY).status_code == 200
    assert data.post(BULK, json=BODY, headers={"MOE-APPKEY": WORKSPACE}).status_code == 200
    response = data.post(BULK, json=BODY, headers={"MOE-APPKEY": "SOMEONE_ELSE"})
    assert response.status_code == 401
    assert response.json()["error"]["message"] == (
        "MOE_APPKEY doesn't match the Username (APP_KEY) used in Basic Auth authorization."
    )


def test_moe_appkey_required_on_campaign_apis(moengage_emulator):
    headers = {"Authorization": basic(WORKSPACE, CAMPAIGN_KEY)}
    with raw_client(moengage_emulator) as client:
        search = client.post(SEARCH, json=SEARCH_BODY, headers=headers)
        stats = client.post(STATS, json={}, headers=headers)
    assert search.status_code == 401
    assert search.json()["error"]["details"][0]["target"] == "MOE-APPKEY"
    # campaign-stats documents exactly this 400 for a missing app key.
    assert stats.status_code == 400
    assert (
        stats.json()["description"]
        == "app_key - Some of the field values are invalid: app_key : None"
    )


def test_workspace_in_path_must_match_username(moengage_emulator_factory):
    # ANOTHER is a workspace (of other credentials): the two disagree, 409.
    emulator = moengage_emulator_factory(
        extra_workspaces={"ANOTHER": WorkspaceKeys("a-data", "a-campaign")}
    )
    with data_client(emulator) as client:
        response = client.post("/v1/transition/ANOTHER", json=BODY)
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["type"], error["message"]) == (
        "Authentication Mismatch",
        "App key mismatch in params and authentication",
    )
    assert emulator.inspect.users() == {} and emulator.inspect.users("ANOTHER") == {}


def test_app_id_query_required(data):
    response = data.post(
        "/v1/customer/merge", json={"merge_data": [{"merged_user": "a1", "retained_user": "b1"}]}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["message"]) == (
        "ParamsRequired",
        "app_id is required in path/query params.",
    )


@pytest.mark.parametrize(("dc", "status"), [("01", 200), ("02", 401), ("101", 401), ("07", 404)])
def test_data_centre_hosts(moengage_emulator, dc, status):
    with data_client(moengage_emulator, base_url=f"https://api-{dc}.moengage.com") as client:
        assert client.post(BULK, json=BODY).status_code == status


def test_workspace_in_another_data_centre(moengage_emulator_factory):
    emulator = moengage_emulator_factory(
        dc="101", extra_workspaces={"EU_WS": WorkspaceKeys("eu-data", "eu-campaign", "02")}
    )
    with httpx.Client(
        transport=emulator.transport(),
        base_url="https://api-101.moengage.com",
        auth=(WORKSPACE, DATA_KEY),
    ) as client:
        assert client.post(BULK, json=BODY).status_code == 200
    with httpx.Client(
        transport=emulator.transport(),
        base_url="https://api-02.moengage.com",
        auth=("EU_WS", "eu-data"),
    ) as client:
        assert (
            client.post("/v1/transition/EU_WS", json=transition(customer("eu-user"))).status_code
            == 200
        )
    assert emulator.inspect.users("EU_WS") == {"eu-user": {}}
    assert emulator.inspect.users() == {"user-1": {}}


def test_loopback_hosts_imply_no_data_centre(moengage_emulator):
    with data_client(moengage_emulator, base_url="http://127.0.0.1:8765") as client:
        assert client.post(BULK, json=BODY).status_code == 200


def test_content_type_missing_and_wrong(moengage_emulator, data):
    payload = b'{"type":"transition","elements":[]}'
    missing = data.post(BULK, content=payload)
    assert missing.status_code == 400
    assert missing.json()["error"]["type"] == "Missing header value"
    assert missing.json()["error"]["message"] == "The Content-Type Header is required"
    wrong = data.post(BULK, content=payload, headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    user = data.post(
        f"/v1/customer/{WORKSPACE}", content=payload, headers={"Content-Type": "text/csv"}
    )
    assert user.status_code == 415
    assert user.json()["error"] | {"request_id": ""} == {
        "message": "Unsupported Media Type",
        "type": "MediaTypeError",
        "request_id": "",
    }
    event = data.post(
        f"/v1/event/{WORKSPACE}", content=payload, headers={"Content-Type": "text/csv"}
    )
    assert event.json()["error"]["message"] == "Content type is not supported"
    charset = data.post(
        BULK, json=BODY, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert charset.status_code == 200
    counts = moengage_emulator.inspect.counters()
    assert counts["transition"]["400"] == 1
    assert counts["transition"]["415"] == 1


def test_unknown_path_and_wrong_method_answer_moengage_errors(moengage_emulator, data):
    missing = data.post("/v1/nothing-here", json={})
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "Not Found"
    wrong = data.get(BULK)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert wrong.json()["status"] == "fail"
    stats_missing = data.get("/core-services/v1/campaign-stats/x")
    assert set(stats_missing.json()) == {"title", "description", "code"}
    assert moengage_emulator.inspect.counters()["unmatched"]["requests"] == 3


def test_oversized_headers_get_431(data):
    response = data.post(BULK, json=BODY, headers={"X-Padding": "a" * 20_000})
    assert response.status_code == 431
    assert response.json()["status"] == "fail"


def test_keys_never_appear_in_reprs(moengage_emulator):
    assert DATA_KEY not in repr(moengage_emulator.settings)
    assert CAMPAIGN_KEY not in repr(moengage_emulator.settings)
    assert DATA_KEY not in repr(moengage_emulator)
