from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
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
def postgres_warehouse(postgres_dsn) -> Iterator[Warehouse]:
    """A warehouse in a schema of its own on the machine's PostgreSQL, dropped afterwards."""
    schema = f"pull_{uuid.uuid4().hex[:12]}"
    with Warehouse.open(f"{postgres_dsn}?schema={schema}") as instance:
        yield instance
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_warehouse(request) -> Warehouse:
    """The same test on DuckDB and on PostgreSQL."""
    return request.getfixturevalue(
        "warehouse" if request.param == "duckdb" else "postgres_warehouse"
    )


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
