from __future__ import annotations

from collections.abc import Iterator

import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.pytest_plugin import client_for
from moengage_pipelines.warehouse import Warehouse
from tests.pull import activity
from tests.pull.emulators import REPORT_NOW, clocked_server


@pytest.fixture
def client(moengage_emulator_server) -> Iterator[MoEngageClient]:
    with client_for(moengage_emulator_server) as instance:
        yield instance


@pytest.fixture
def warehouse(tmp_path) -> Iterator[Warehouse]:
    with Warehouse.open(f"duckdb:///{tmp_path}/results.duckdb") as instance:
        yield instance


@pytest.fixture
def seeded(moengage_emulator_server, client):
    """Users and three days of events in the emulator; returns what was sent."""
    customers = activity.users()
    sent = activity.events(activity.DAYS)
    activity.send(client, customers, sent)
    assert moengage_emulator_server.emulator.inspect.dropped() == []
    return customers, sent


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(REPORT_NOW)


@pytest.fixture
def report_server(clock):
    with clocked_server(clock) as server:
        yield server
