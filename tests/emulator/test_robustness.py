"""Arbitrary input never produces a 500 or a traceback; the shared fixtures and transports work."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator import Emulator, EmulatorSettings
from tests.emulator.conftest import WORKSPACE, customer, data_client, transition

ENDPOINTS = [
    f"/v1/transition/{WORKSPACE}",
    f"/v1/customer/{WORKSPACE}",
    f"/v1/event/{WORKSPACE}",
    f"/v1/device/{WORKSPACE}",
    f"/v1/customers/export?app_id={WORKSPACE}",
    f"/v1/customer/delete?app_id={WORKSPACE}",
    f"/v1/customer/merge?app_id={WORKSPACE}",
    "/core-services/v1/campaigns/search",
    "/core-services/v1/campaign-stats",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "customer_id",
                    "elements",
                    "actions",
                    "action",
                    "attributes",
                    "platform",
                    "current_time",
                    "device_id",
                    "data",
                    "identifiers",
                    "merge_data",
                    "merged_user",
                    "retained_user",
                    "identity_type",
                    "identity_value",
                    "request_id",
                    "limit",
                    "page",
                    "campaign_fields",
                    "start_date",
                    "end_date",
                    "campaign_ids",
                    "metric_type",
                    "attribution_type",
                    "push_id",
                    "x",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=25,
)
typed_elements = st.fixed_dictionaries(
    {"type": st.sampled_from(["customer", "event", "device", "Customer"])},
    optional={
        "customer_id": scalars,
        "actions": json_values,
        "attributes": json_values,
        "device_id": scalars,
    },
)


@pytest.fixture(scope="module")
def shared_emulator():
    with Emulator(EmulatorSettings(rate_limits_enabled=False)) as emulator:
        yield emulator


def _client(emulator: Emulator, path: str) -> httpx.Client:
    key = "test-campaign-key" if path.startswith("/core-services") else "test-data-key"
    return httpx.Client(
        transport=emulator.transport(),
        base_url="http://emulator",
        auth=(WORKSPACE, key),
        headers={"MOE-APPKEY": WORKSPACE},
    )


def _assert_handled(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    orjson.loads(response.content)  # always a JSON body


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(ENDPOINTS), document=json_values)
def test_any_json_gets_a_handled_answer(shared_emulator, path, document):
    with _client(shared_emulator, path) as client:
        _assert_handled(client.post(path, json=document))


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(elements=st.lists(typed_elements, min_size=1, max_size=5))
def test_any_bulk_elements_get_a_handled_answer(shared_emulator, elements):
    with _client(shared_emulator, ENDPOINTS[0]) as client:
        _assert_handled(
            client.post(ENDPOINTS[0], json={"type": "transition", "elements": elements})
        )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.sampled_from(ENDPOINTS), body=st.binary(max_size=64))
def test_any_bytes_get_a_handled_answer(shared_emulator, path, body):
    with _client(shared_emulator, path) as client:
        _assert_handled(
            client.post(path, content=body, headers={"Content-Type": "application/json"})
        )


def test_a_bug_in_a_handler_becomes_a_500_in_the_envelope(
    moengage_emulator, data, monkeypatch, caplog
):
    from moengage_pipelines.emulator.store import Store

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(Store, "ingest", explode)
    response = data.post(f"/v1/transition/{WORKSPACE}", json=transition(customer("user-1")))
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "ServerError"
    assert "boom" not in response.text and "Traceback" not in response.text
    assert "boom" in caplog.text  # logged for the developer instead


def test_emulator_settings_fixture_matches_the_emulator(
    moengage_emulator, moengage_emulator_settings
):
    assert isinstance(moengage_emulator_settings, MoEngageSettings)
    assert moengage_emulator_settings.workspace_id == "TEST_WORKSPACE"
    assert moengage_emulator_settings.key("data") == "test-data-key"
    assert moengage_emulator_settings.key("campaign") == "test-campaign-key"
    with httpx.Client(
        transport=moengage_emulator.transport(),
        base_url=moengage_emulator_settings.api_base,
        auth=(moengage_emulator_settings.workspace_id, moengage_emulator_settings.key("data")),
    ) as client:
        assert (
            client.post(
                f"/v1/transition/{WORKSPACE}", json=transition(customer("user-1"))
            ).status_code
            == 200
        )


def test_async_transport(moengage_emulator):
    async def run() -> int:
        async with httpx.AsyncClient(
            transport=moengage_emulator.async_transport(),
            base_url="https://api-01.moengage.com",
            auth=(WORKSPACE, "test-data-key"),
        ) as client:
            response = await client.post(
                f"/v1/transition/{WORKSPACE}", json=transition(customer("user-1"))
            )
            return response.status_code

    assert asyncio.run(run()) == 200
    assert moengage_emulator.inspect.users() == {"user-1": {}}


def test_settings_from_env():
    settings = EmulatorSettings.from_env(
        {
            "MOENGAGE_WORKSPACE_ID": "ENV_WS",
            "MOENGAGE_DATA_API_KEY": "d",
            "MOENGAGE_CAMPAIGN_API_KEY": "c",
            "MOENGAGE_DC": "3",
        },
        time_scale=30,
    )
    assert (
        settings.workspace_id,
        settings.data_api_key,
        settings.campaign_api_key,
        settings.dc,
    ) == (
        "ENV_WS",
        "d",
        "c",
        "03",
    )
    assert settings.time_scale == 30
    defaults = EmulatorSettings.from_env({})
    assert (defaults.workspace_id, defaults.data_api_key) == ("TEST_WORKSPACE", "test-data-key")


def test_in_process_transport_used_by_many_threads(moengage_emulator):
    import concurrent.futures

    def send(batch: int) -> int:
        with data_client(moengage_emulator) as client:
            return client.post(
                f"/v1/transition/{WORKSPACE}",
                json=transition(*(customer(f"u-{batch}-{i}") for i in range(20))),
            ).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(send, range(30))) == [200] * 30
    assert moengage_emulator.inspect.summary()["users"] == 600
