"""Clients and payload builders for the emulator tests.

The emulator, its settings, servers and clocks come from the package's pytest plugin
(``moengage_emulator``, ``moengage_emulator_factory``, ``moengage_clock``...).
"""

from __future__ import annotations

import httpx
import pytest

from moengage_pipelines.emulator.core import Emulator

WORKSPACE = "TEST_WORKSPACE"
DATA_KEY = "test-data-key"
CAMPAIGN_KEY = "test-campaign-key"
BASE_URL = "https://api-01.moengage.com"


def data_client(emulator: Emulator, base_url: str = BASE_URL, **kw) -> httpx.Client:
    return httpx.Client(
        transport=emulator.transport(), base_url=base_url, auth=(WORKSPACE, DATA_KEY), **kw
    )


def campaign_client(emulator: Emulator, base_url: str = BASE_URL, **kw) -> httpx.Client:
    return httpx.Client(
        transport=emulator.transport(),
        base_url=base_url,
        auth=(WORKSPACE, CAMPAIGN_KEY),
        headers={"MOE-APPKEY": WORKSPACE},
        **kw,
    )


@pytest.fixture
def data(moengage_emulator) -> httpx.Client:
    with data_client(moengage_emulator) as client:
        yield client


@pytest.fixture
def campaigns(moengage_emulator) -> httpx.Client:
    with campaign_client(moengage_emulator) as client:
        yield client


def transition(*elements: dict) -> dict:
    return {"type": "transition", "elements": list(elements)}


def customer(customer_id: str, **attributes) -> dict:
    return {"type": "customer", "customer_id": customer_id, "attributes": attributes}


def event(customer_id: str, *actions: dict, **fields) -> dict:
    return {"type": "event", "customer_id": customer_id, "actions": list(actions), **fields}


def action(name: str, **fields) -> dict:
    return {"action": name, **fields}
