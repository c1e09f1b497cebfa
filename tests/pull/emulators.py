"""Emulators with a chosen clock and report definitions, for the pull tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx

from moengage_pipelines.emulator import Emulator, EmulatorServer, EmulatorSettings, serve
from moengage_pipelines.emulator.clock import FakeClock

# The emulator's "now" in report tests: the day after the seeded days, so their files exist.
REPORT_NOW = datetime(2025, 3, 6, 12, tzinfo=UTC)


@contextmanager
def clocked_server(clock: FakeClock) -> Iterator[EmulatorServer]:
    """An emulator on a real socket whose clock reads ``clock``."""
    with Emulator(EmulatorSettings(clock=clock)) as instance, serve(instance) as url:
        yield EmulatorServer(url, instance)


def define_report(server, **definition) -> dict:
    """Configure a report the way the dashboard would, through the inspection API."""
    response = httpx.post(f"{server.url}/_emulator/reports", json=definition)
    response.raise_for_status()
    return response.json()
