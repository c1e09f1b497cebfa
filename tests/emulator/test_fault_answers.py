"""Faults answering in MoEngage's place: ``garbled`` HTML pages, ``echo_auth`` quoted keys."""

from __future__ import annotations

import base64

import httpx
import pytest

from moengage_pipelines.emulator import FaultRule, parse_faults
from moengage_pipelines.emulator.server import serve
from moengage_pipelines.errors import ConfigError
from tests.emulator.conftest import (
    DATA_KEY,
    WORKSPACE,
    campaign_client,
    customer,
    data_client,
    transition,
)

BULK = f"/v1/transition/{WORKSPACE}"


def bulk(client: httpx.Client, customer_id: str) -> httpx.Response:
    return client.post(BULK, json=transition(customer(customer_id)))


def test_garbled_answers_an_html_page_and_applies_nothing(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("transition", "garbled", count=1)])
    page = bulk(data, "user-1")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["x-emulator-fault"] == "injected"
    assert page.text.startswith("<!DOCTYPE html>")
    assert moengage_emulator.inspect.users() == {}
    assert bulk(data, "user-1").json()["status"] == "success"
    assert moengage_emulator.inspect.users() == {"user-1": {}}


def test_garbled_with_apply_applies_the_request_first(moengage_emulator):
    moengage_emulator.faults.set(parse_faults("transition:garbled:apply=1,count=1"))
    with serve(moengage_emulator) as url, data_client(moengage_emulator, base_url=url) as data:
        page = bulk(data, "user-1")
        second = bulk(data, "user-2")
    assert page.status_code == 200 and "<html>" in page.text
    assert second.json()["status"] == "success"
    assert set(moengage_emulator.inspect.users()) == {"user-1", "user-2"}
    assert moengage_emulator.inspect.faults()[0]["fired"] == 1


def test_garbled_with_apply_spares_refused_requests(moengage_emulator, data):
    moengage_emulator.faults.set([FaultRule("transition", "garbled", apply=True, count=1)])
    refused = data.post(BULK, json=transition())
    assert refused.status_code == 400 and refused.json()["status"] == "fail"
    assert bulk(data, "user-1").headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("status", [400, 401, 503])
def test_echo_auth_quotes_the_credentials_in_the_endpoint_envelope(moengage_emulator, status):
    moengage_emulator.faults.set([FaultRule("*", "echo_auth", status=status)])
    token = base64.b64encode(f"{WORKSPACE}:{DATA_KEY}".encode()).decode()
    with data_client(moengage_emulator) as data:
        echoed = bulk(data, "user-1")
    assert echoed.status_code == status
    error = echoed.json()["error"]
    assert f"Authorization: Basic {token}" in error["message"]
    assert f"credentials {WORKSPACE}:{DATA_KEY}" in error["message"]
    assert moengage_emulator.inspect.users() == {}
    with campaign_client(moengage_emulator) as campaigns:
        search = campaigns.post(
            "/core-services/v1/campaigns/search", json={"request_id": "r", "limit": 1, "page": 1}
        )
    assert search.status_code == status
    assert "Authorization: Basic" in search.json()["error"]["message"]


@pytest.mark.parametrize(
    "spec", ["transition:echo_auth:status=200", "transition:echo_auth:status=302"]
)
def test_echo_auth_answers_errors_only(spec):
    with pytest.raises(ConfigError, match="echo_auth"):
        parse_faults(spec)
