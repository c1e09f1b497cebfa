"""Error envelopes: each API family answers every error, unmatched paths included, in its shape."""

from __future__ import annotations

import httpx
import pytest

from moengage_pipelines.emulator.envelope_shapes import CATALOG_ERROR_CODES
from moengage_pipelines.emulator.envelope_table import ANSWERS, SITUATIONS
from moengage_pipelines.emulator.envelopes import render
from tests.emulator.conftest import BASE_URL, CAMPAIGN_KEY, DATA_KEY, WORKSPACE, campaign_client

# Every situation of the shared pipeline, with the fields its row takes.
SHARED_SITUATIONS = [
    ("auth_missing", {}, 401, "request-unauthenticated"),
    ("auth_scheme", {}, 401, "request-unauthenticated"),
    ("auth_username_missing", {}, 401, "request-unauthenticated"),
    ("auth_password_missing", {}, 401, "request-unauthenticated"),
    ("secret_not_set", {}, 401, "request-unauthenticated"),
    ("auth_unknown_workspace", {}, 401, "request-unauthenticated"),
    ("auth_bad_key", {}, 401, "request-unauthenticated"),
    ("auth_wrong_family", {}, 403, "request-denied"),
    ("appkey_missing", {}, 401, "request-unauthenticated"),
    ("appkey_mismatch", {}, 401, "request-unauthenticated"),
    ("params_required", {}, 400, "invalid-request"),
    ("invalid_app_id", {}, 400, "invalid-request"),
    ("account_blacklisted", {}, 403, "request-denied"),
    ("account_suspended", {}, 403, "request-denied"),
    ("account_temporarily_suspended", {}, 403, "request-denied"),
    ("account_blocked", {}, 403, "request-denied"),
    ("content_type_missing", {}, 400, "invalid-request"),
    ("content_type_unsupported", {}, 415, "invalid-request"),
    ("payload_too_large", {"limit": "5 MB"}, 413, "payload-size-exceeded"),
    ("body_not_json", {}, 400, "invalid-request"),
    ("malformed_json", {}, 400, "invalid-request"),
    ("not_found", {}, 404, "catalog-not-found"),
    ("method_not_allowed", {"headers": (("allow", "POST"),)}, 405, "invalid-request"),
    ("header_too_large", {}, 431, "invalid-request"),
    ("rate_limited", {"headers": ()}, 429, "rate-limit-exceeded"),
    ("server_error", {"status": 500}, 500, "internal-server-error"),
]
# Situations that are no catalog request's: a workspace in the path (no catalog route has
# one), the report download's signature, an endpoint's own error (tested below).
NOT_CATALOG = {"workspace_mismatch", "signature_missing", "signature_mismatch", "error"}


def test_every_shared_situation_is_named_here():
    assert set(SITUATIONS) - NOT_CATALOG == {name for name, *_ in SHARED_SITUATIONS}
    # Every situation has a shared row, so every family answers it.
    assert {situation for family, situation in ANSWERS if family == "*"} == set(SITUATIONS)


@pytest.mark.parametrize(("situation", "fields", "status", "code"), SHARED_SITUATIONS)
def test_the_catalog_envelope_answers_catalog_codes_only(situation, fields, status, code):
    response = render("catalog", situation, "req-1", **fields)
    document = response.json()
    assert response.status == status
    assert set(document) == {"error-code", "message"}
    assert document["error-code"] == code
    assert document["error-code"] in CATALOG_ERROR_CODES


def catalog_error(status: int, message: str, type: str) -> dict:
    return render("catalog", "error", "r", status=status, message=message, type=type).json()


def test_a_catalog_code_passed_by_an_endpoint_is_kept_and_any_other_type_is_not():
    assert catalog_error(409, "taken", "duplicate-catalog-name") == {
        "error-code": "duplicate-catalog-name",
        "message": "taken",
    }
    assert catalog_error(401, "x", "Authentication required")["error-code"] == (
        "request-unauthenticated"
    )
    assert catalog_error(503, "x", "ServerError")["error-code"] == "internal-server-error"


def test_catalog_authentication_errors_over_http(moengage_emulator):
    def post(**kw) -> httpx.Response:
        with httpx.Client(
            transport=moengage_emulator.transport(), base_url=BASE_URL, **kw
        ) as client:
            return client.post("/v1/catalog", json={})

    appkey = {"MOE-APPKEY": WORKSPACE}
    cases = [
        (post(headers=appkey), 401, "request-unauthenticated"),
        (post(auth=(WORKSPACE, "wrong"), headers=appkey), 401, "request-unauthenticated"),
        (post(auth=("NOPE", CAMPAIGN_KEY), headers=appkey), 401, "request-unauthenticated"),
        (post(auth=(WORKSPACE, CAMPAIGN_KEY)), 401, "request-unauthenticated"),
        (
            post(auth=(WORKSPACE, CAMPAIGN_KEY), headers={"MOE-APPKEY": "X"}),
            401,
            "request-unauthenticated",
        ),
        (post(auth=(WORKSPACE, DATA_KEY), headers=appkey), 403, "request-denied"),
    ]
    for response, status, code in cases:
        assert response.status_code == status
        assert response.json() == {"error-code": code, "message": response.json()["message"]}


def test_unmatched_catalog_paths_answer_in_the_catalog_envelope(moengage_emulator):
    with campaign_client(moengage_emulator) as client:
        wrong_method = client.get("/v1/catalog")
        unknown = client.post("/v1/catalog/abc/nothing-here", json={})
        huge = client.post("/v1/catalog", json={}, headers={"X-Padding": "a" * 20_000})
        unknown_huge = client.post("/v1/catalog/x/y/z", headers={"X-Padding": "a" * 20_000})
        not_catalog = client.post("/v1/catalogue", json={})
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json() == {"error-code": "invalid-request", "message": "Method not allowed"}
    assert unknown.status_code == 404
    assert unknown.json()["error-code"] == "catalog-not-found"
    for response in (huge, unknown_huge):
        assert response.status_code == 431
        assert response.json()["error-code"] == "invalid-request"
    # Only the catalog path and its sub-paths are the catalog API.
    assert not_catalog.status_code == 404
    assert not_catalog.json()["status"] == "fail"


REPORT_PATH = f"/campaign_reports/rest_api/{WORKSPACE}/Daily_20250309.zip"


def report_error(response: httpx.Response, status: int, kind: str) -> dict:
    assert response.status_code == status
    document = response.json()
    assert set(document) == {"error"}
    assert set(document["error"]) == {"attribute", "message", "type", "request_id"}
    assert document["error"]["type"] == kind
    return document["error"]


def test_unmatched_report_paths_answer_in_the_report_envelope(moengage_emulator):
    with httpx.Client(transport=moengage_emulator.transport(), base_url=BASE_URL) as client:
        wrong_method = client.delete(REPORT_PATH)
        unknown = client.get("/campaign_reports/rest_api/only-one-segment")
        huge = client.get(REPORT_PATH, headers={"X-Padding": "a" * 20_000})
    report_error(wrong_method, 405, "METHOD NOT ALLOWED")
    assert wrong_method.headers["allow"] == "GET"
    report_error(unknown, 404, "NOT FOUND")
    report_error(huge, 431, "REQUEST HEADER FIELDS TOO LARGE")
    assert moengage_emulator.inspect.counters()["unmatched"]["requests"] == 2


def test_report_errors_keep_the_documented_shapes():
    bad = render(
        "reports", "error", "r", status=400, message="Invalid App Id: X", attribute="APP_ID"
    ).json()
    assert bad == {
        "error": {
            "attribute": "APP_ID",
            "message": "Invalid App Id: X",
            "type": "BAD REQUEST",
            "request_id": "r",
        }
    }
    assert render("reports", "auth_missing", "r").json() == {}
    for situation in ("signature_missing", "signature_mismatch"):
        unsigned = render("reports", situation, "r")
        assert (unsigned.status, unsigned.json()) == (401, {})
