"""Clients of the emulator and emulators with a chosen clock, for the pull tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import budget_for_workspace
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator import Emulator, EmulatorServer, EmulatorSettings, serve

# The emulator's "now" in report tests: the day after the seeded days, so their files exist.
REPORT_NOW = datetime(2025, 3, 6, 12, tzinfo=UTC)


def settings_for(server, *, campaign_api_key: str | None = None) -> MoEngageSettings:
    emulator = server.emulator.settings
    return MoEngageSettings(
        workspace_id=emulator.workspace_id,
        data_api_key=emulator.data_api_key,
        campaign_api_key=campaign_api_key or emulator.campaign_api_key,
        base_url=server.url,
    )


def client_for(server, **overrides) -> MoEngageClient:
    settings = settings_for(server, **overrides)
    # A per-test in-memory budget: real pacing, nothing shared with other tests.
    return MoEngageClient(settings, budget=budget_for_workspace(settings, store="memory"))


class Clock:
    """A settable clock for an emulator whose "today" the test chooses."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> float:
        return self.moment.timestamp()


@contextmanager
def clocked_server(clock: Clock) -> Iterator[EmulatorServer]:
    """An emulator on a real socket whose clock reads ``clock``."""
    with Emulator(EmulatorSettings(clock=clock)) as instance, serve(instance) as url:
        yield EmulatorServer(url, instance)


def define_report(server, **definition) -> dict:
    """Configure a report the way the dashboard would, through the inspection API."""
    response = httpx.post(f"{server.url}/_emulator/reports", json=definition)
    response.raise_for_status()
    return response.json()
