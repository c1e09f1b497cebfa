"""Account states (blacklisted, suspended, blocked, no key set), invalid app ids, empty auth."""

from __future__ import annotations

import base64

import httpx
import pytest

from moengage_pipelines.cli import build_parser
from moengage_pipelines.cli.emulator import settings_from_args
from moengage_pipelines.emulator import EmulatorSettings, WorkspaceKeys
from moengage_pipelines.emulator.endpoints.reports import report_signature
from moengage_pipelines.emulator.report_definitions import ReportBook, ReportDefinition, utc_day
from moengage_pipelines.errors import ConfigError
from tests.emulator.conftest import (
    BASE_URL,
    CAMPAIGN_KEY,
    DATA_KEY,
    WORKSPACE,
    action,
    campaign_client,
    customer,
    data_client,
    event,
    transition,
)

Q = {"app_id": WORKSPACE}
DEVICE = {
    "type": "device",
    "customer_id": "user-1",
    "device_id": "d1",
    "attributes": {"platform": "ANDROID", "push_id": "p1"},
}
EXPORT = {"data": {"identifiers": [{"identifier_type": "customer_id", "identifier": "user-1"}]}}
DELETE = {"identity_type": "customer_id", "identity_value": "user-1"}
MERGE = {"merge_data": [{"merged_user": "user-1", "retained_user": "user-2"}]}
# (endpoint, path, query, body) of every Data API.
DATA_APIS = [
    ("transition", f"/v1/transition/{WORKSPACE}", {}, transition(customer("user-1"))),
    ("customer", f"/v1/customer/{WORKSPACE}", {}, customer("user-1")),
    ("event", f"/v1/event/{WORKSPACE}", {}, event("user-1", action("Opened"))),
    ("device", f"/v1/device/{WORKSPACE}", {}, DEVICE),
    ("customers_export", "/v1/customers/export", Q, EXPORT),
    ("customer_delete", "/v1/customer/delete", Q, DELETE),
    ("customer_merge", "/v1/customer/merge", Q, MERGE),
]
SUSPENDED = "Your account is suspended. Please contact MoEngage team."
TEMPORARILY = "Your account is temporarily suspended. Please contact MoEngage team."
INVALID_OR_BLOCKED = ("InvalidParams", "given app_id is invalid/blocked")
# What each Data API answers per state: (status, type, message), as each reference words it.
EXPECTED = {
    "blacklisted": {
        name: (400, "Blacklisted", "Your account is blacklisted, Please contact MoEngage.")
        for name, *_ in DATA_APIS
    },
    "suspended": {
        "transition": (403, "Account Suspended", SUSPENDED),
        "customer": (403, "Account Suspended", SUSPENDED),
        "event": (403, "Account Suspended", SUSPENDED),
        "device": (403, "Account Suspended", SUSPENDED),
        "customers_export": (403, "Account Suspended", SUSPENDED),
        "customer_delete": (403, *INVALID_OR_BLOCKED),
        "customer_merge": (400, "Account Suspended", "Account Suspended."),
    },
    "temporarily_suspended": {
        "transition": (403, "Account Temporarily Suspended", TEMPORARILY),
        "customer": (
            403,
            "Account Temporarily Suspended",
            "Your account is temporarily suspended due to payment issues.",
        ),
        "event": (403, "Account Temporarily Suspended", TEMPORARILY),
        "device": (403, "Account Temporarily Suspended", TEMPORARILY),
        "customers_export": (403, "Account Temporarily Suspended", TEMPORARILY),
        "customer_delete": (403, *INVALID_OR_BLOCKED),
        "customer_merge": (
            403,
            "Account Temporarily Suspended.",
            "Account Temporarily Suspended.",
        ),
    },
    "blocked": {
        "transition": (403, "BlockedClient", SUSPENDED),
        "customer": (
            403,
            "BlockedClient",
            "Your account is blocked. Please contact MoEngage team.",
        ),
        "event": (403, "BlockedClient", SUSPENDED),
        "device": (403, "BlockedClient", SUSPENDED),
        "customers_export": (403, "BlockedClient", SUSPENDED),
        "customer_delete": (403, *INVALID_OR_BLOCKED),
        "customer_merge": (400, *INVALID_OR_BLOCKED),
    },
}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def seed(emulator) -> None:
    with data_client(emulator) as client:
        body = transition(customer("user-1", name="Ada"), customer("user-2"))
        assert client.post(f"/v1/transition/{WORKSPACE}", json=body).status_code == 200


@pytest.mark.parametrize("state", sorted(EXPECTED))
def test_every_data_api_answers_the_documented_error_for_the_state(
    moengage_emulator_factory, state
):
    emulator = moengage_emulator_factory()
    seed(emulator)
    emulator.accounts.set(state)
    with data_client(emulator) as client:
        for name, path, query, body in DATA_APIS:
            response = client.post(path, params=query, json=body)
            error = response.json()["error"]
            assert (response.status_code, error["type"], error["message"]) == EXPECTED[state][
                name
            ], name
            assert len(error["request_id"]) == 8
    # Nothing was applied, and no budget was spent on refused requests.
    assert set(emulator.inspect.users()) == {"user-1", "user-2"}
    assert emulator.inspect.events() == [] and emulator.inspect.merges() == []
    assert emulator.inspect.deletions() == []
    assert not any(key.split("/")[1] != "transition_users" for key in emulator.inspect.rate_usage())
    # Back to active: the same requests go through.
    emulator.accounts.set("active")
    with data_client(emulator) as client:
        for _, path, query, body in DATA_APIS:
            assert client.post(path, params=query, json=body).status_code == 200


def test_state_from_settings_and_other_workspaces_unaffected(moengage_emulator_factory):
    emulator = moengage_emulator_factory(
        extra_workspaces={"OTHER": WorkspaceKeys("other-data", "other-campaign")},
        account_states={"OTHER": "suspended"},
    )
    assert emulator.inspect.account_states() == {WORKSPACE: "active", "OTHER": "suspended"}
    with data_client(emulator) as client:
        ok = client.post(f"/v1/customer/{WORKSPACE}", json=customer("user-1"))
        refused = client.post(
            "/v1/customer/OTHER", json=customer("user-1"), auth=("OTHER", "other-data")
        )
    assert ok.status_code == 200
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "Account Suspended"


def test_secret_not_set_answers_409_on_data_apis_whatever_key_is_sent(moengage_emulator_factory):
    emulator = moengage_emulator_factory(account_states={WORKSPACE: "secret_not_set"})
    with data_client(emulator) as client:
        for name, path, query, body in DATA_APIS:
            for key in (DATA_KEY, "anything"):
                response = client.post(path, params=query, json=body, auth=(WORKSPACE, key))
                assert response.status_code == 409, name
                error = response.json()["error"]
                if name == "customer_merge":
                    assert (error["type"], error["message"]) == (
                        "Authentication required.",
                        "App Secret key is not set. Please login to the dashboard to set a key.",
                    )
                else:
                    assert (error["type"], error["message"]) == (
                        "Authentication required",
                        "App Secret key is not set. Please login to the dashboard to set a key",
                    )
    # The campaign-family key is a different key: campaign APIs still work.
    with campaign_client(emulator) as client:
        assert (
            client.post(
                "/core-services/v1/campaigns/search",
                json={"request_id": "r", "limit": 1, "page": 1},
            ).status_code
            == 200
        )
    assert emulator.inspect.users() == {}


def test_other_families_refuse_a_suspended_account_in_their_own_envelopes(
    moengage_emulator_factory,
):
    emulator = moengage_emulator_factory(account_states={WORKSPACE: "blocked"})
    day = utc_day(emulator.now())
    definition = ReportDefinition("Blocked Report", day)
    ReportBook(emulator.store, WORKSPACE).define(definition)
    filename = definition.file(day).filename
    with campaign_client(emulator) as client:
        search = client.post(
            "/core-services/v1/campaigns/search", json={"request_id": "r", "limit": 1, "page": 1}
        )
        stats = client.post("/core-services/v1/campaign-stats", json={})
        catalog = client.post("/v1/catalog", json={})
        report = client.get(
            f"/campaign_reports/rest_api/{WORKSPACE}/{filename}",
            headers={"Signature": report_signature(WORKSPACE, filename, CAMPAIGN_KEY)},
        )
    assert search.status_code == 403
    assert search.json()["error"]["code"] == "403 Forbidden Request"
    assert stats.status_code == 403
    assert stats.json() | {"code": ""} == {
        "title": "Forbidden Request",
        "description": SUSPENDED,
        "code": "",
    }
    assert catalog.status_code == 403
    assert catalog.json() == {"error-code": "request-denied", "message": SUSPENDED}
    assert report.status_code == 403
    assert report.json()["error"]["type"] == "FORBIDDEN REQUEST"
    emulator.accounts.set("active")
    with httpx.Client(transport=emulator.transport(), base_url=BASE_URL) as client:
        assert (
            client.get(
                f"/campaign_reports/rest_api/{WORKSPACE}/{filename}",
                headers={"Signature": report_signature(WORKSPACE, filename, CAMPAIGN_KEY)},
            ).status_code
            == 200
        )


def test_account_states_over_http_and_across_reset(moengage_emulator):
    with httpx.Client(transport=moengage_emulator.transport(), base_url="http://emulator") as plain:
        assert plain.get("/_emulator/accounts").json() == {WORKSPACE: "active"}
        changed = plain.put("/_emulator/accounts", json={"state": "temporarily_suspended"})
        assert changed.json() == {WORKSPACE: "temporarily_suspended"}
        bad = plain.put("/_emulator/accounts", json={"state": "frozen"})
        assert bad.status_code == 400
        assert "unknown account state 'frozen'" in bad.json()["error"]["message"]
        unknown = plain.put("/_emulator/accounts?workspace=NOPE", json={"state": "blocked"})
        assert unknown.status_code == 400
        assert plain.post("/_emulator/reset").status_code == 200
        # A state is configuration: reset keeps it.
        assert plain.get("/_emulator/accounts").json() == {WORKSPACE: "temporarily_suspended"}
    with data_client(moengage_emulator) as client:
        assert client.post(f"/v1/customer/{WORKSPACE}", json=customer("u1")).status_code == 403


def test_bad_account_states_in_settings_and_the_cli_option(monkeypatch):
    with pytest.raises(ConfigError, match="unknown account state 'frozen'"):
        EmulatorSettings(account_states={"TEST_WORKSPACE": "frozen"})
    with pytest.raises(ConfigError, match="workspace 'NOPE'"):
        EmulatorSettings(account_states={"NOPE": "blocked"})
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", "CLI_WS")
    parser = build_parser()
    settings = settings_from_args(parser.parse_args(["emulator", "--account-state", "blacklisted"]))
    assert settings.account_states == {"CLI_WS": "blacklisted"}
    with pytest.raises(ConfigError, match="workspace 'OTHER'"):
        settings_from_args(parser.parse_args(["emulator", "--account-state", "OTHER=blocked"]))


# -- app ids that name no workspace --------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "body", "status", "message"),
    [
        ("/v1/transition/NOPE", {}, transition(customer("u1")), 400, "Given app_id is invalid."),
        ("/v1/customer/NOPE", {}, customer("u1"), 400, "Given app_id is invalid."),
        ("/v1/event/NOPE", {}, event("u1", action("a")), 400, "Given app_id is invalid."),
        ("/v1/device/NOPE", {}, DEVICE, 400, "Given app_id is invalid."),
        ("/v1/customers/export", {"app_id": "NOPE"}, EXPORT, 400, "Given app_id is invalid."),
        ("/v1/customer/delete", {"app_id": "NOPE"}, DELETE, 403, INVALID_OR_BLOCKED[1]),
        ("/v1/customer/merge", {"app_id": "NOPE"}, MERGE, 400, INVALID_OR_BLOCKED[1]),
    ],
)
def test_an_app_id_of_no_workspace_is_invalid_params(data, path, query, body, status, message):
    response = data.post(path, params=query, json=body)
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["type"], error["message"]) == ("InvalidParams", message)


# -- empty credentials -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credentials", "message", "merge_message"),
    [
        (
            f":{DATA_KEY}",
            "APP_KEY missing in the authentication header",
            "Username (APP_KEY) is missing in the Basic Auth authorization.",
        ),
        (
            f"{WORKSPACE}:",
            "APP_SECRET missing in the authentication header",
            "Password (APP_SECRET) is missing in the Basic Auth authorization.",
        ),
    ],
)
def test_basic_auth_with_an_empty_username_or_password(
    moengage_emulator, credentials, message, merge_message
):
    header = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}
    with httpx.Client(transport=moengage_emulator.transport(), base_url=BASE_URL) as client:
        bulk = client.post(
            f"/v1/transition/{WORKSPACE}", json=transition(customer("u1")), headers=header
        )
        merge = client.post("/v1/customer/merge", params=Q, json=MERGE, headers=header)
        search = client.post(
            "/core-services/v1/campaigns/search",
            json={"request_id": "r", "limit": 1, "page": 1},
            headers={**header, "MOE-APPKEY": WORKSPACE},
        )
    assert bulk.status_code == merge.status_code == search.status_code == 401
    assert bulk.json()["error"] | {"request_id": ""} == {
        "message": message,
        "type": "Authentication required",
        "request_id": "",
    }
    assert merge.json()["error"]["message"] == merge_message
    target = "APP_KEY" if credentials.startswith(":") else "APP_SECRET_KEY"
    assert search.json()["error"]["details"][0]["target"] == target
    assert moengage_emulator.inspect.users() == {}


def test_campaign_stats_without_credentials_finds_no_identity(moengage_emulator):
    with httpx.Client(transport=moengage_emulator.transport(), base_url=BASE_URL) as client:
        response = client.post(
            "/core-services/v1/campaign-stats", json={}, headers={"MOE-APPKEY": WORKSPACE}
        )
        empty_user = client.post(
            "/core-services/v1/campaign-stats",
            json={},
            headers={"MOE-APPKEY": WORKSPACE, "Authorization": basic("", CAMPAIGN_KEY)},
        )
    assert response.status_code == 401
    assert response.json() | {"code": ""} == {
        "title": "Authentication required",
        "description": "No identity information found.",
        "code": "",
    }
    assert empty_user.status_code == 401
    assert empty_user.json()["description"] == "Invalid identity information found."
