"""Clients for the emulator tests."""

from __future__ import annotations

import httpx
import pytest

from moengage_pipelines.emulator import Emulator, EmulatorSettings

WORKSPACE = "TEST_WORKSPACE"
DATA_KEY = "test-data-key"
CAMPAIGN_KEY = "test-campaign-key"
BASE_URL = "https://api-01.moengage.com"


class FakeClock:
    """A settable clock so rate windows move only when a test says so."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_emulator():
    """Build emulators with custom settings; closes them afterwards."""
    made: list[Emulator] = []

    def make(**settings) -> Emulator:
        instance = Emulator(EmulatorSettings(**settings))
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


@pytest.fixture
def data(emulator) -> httpx.Client:
    with data_client(emulator) as client:
        yield client


@pytest.fixture
def campaigns(emulator) -> httpx.Client:
    with campaign_client(emulator) as client:
        yield client


def transition(*elements: dict) -> dict:
    return {"type": "transition", "elements": list(elements)}


def customer(customer_id: str, **attributes) -> dict:
    return {"type": "customer", "customer_id": customer_id, "attributes": attributes}


def event(customer_id: str, *actions: dict, **fields) -> dict:
    return {"type": "event", "customer_id": customer_id, "actions": list(actions), **fields}


def action(name: str, **fields) -> dict:
    return {"action": name, **fields}
