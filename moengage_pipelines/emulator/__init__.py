"""A local MoEngage: the same HTTP API, seen from MoEngage's side, as a test oracle.

Run it in-process (``Emulator(settings).transport()`` for ``httpx``) or on a real socket
(``serve(emulator)`` or ``moengage-pipelines emulator``); test your own code against it with
the pytest plugin (``moengage_pipelines.emulator.pytest_plugin``). See ``docs/emulator.md``.

The names below are loaded on first use: pytest loads the plugin in every test run of every
project that installs this package, and importing it must not start the emulator's imports
(the server, the store, the HTTP stack).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moengage_pipelines.emulator.accounts import ACCOUNT_STATES, AccountState, AccountStates
    from moengage_pipelines.emulator.catalog_store import CatalogStore
    from moengage_pipelines.emulator.clock import FakeClock
    from moengage_pipelines.emulator.core import Emulator
    from moengage_pipelines.emulator.faults import FaultRule, parse_faults
    from moengage_pipelines.emulator.inspection import Inspector
    from moengage_pipelines.emulator.report_definitions import ReportBook, ReportDefinition
    from moengage_pipelines.emulator.server import EmulatorServer, serve
    from moengage_pipelines.emulator.settings import (
        DEFAULT_RATE_LIMITS,
        EmulatorSettings,
        RateLimit,
        WorkspaceKeys,
    )

__all__ = [
    "ACCOUNT_STATES",
    "DEFAULT_RATE_LIMITS",
    "AccountState",
    "AccountStates",
    "CatalogStore",
    "Emulator",
    "EmulatorServer",
    "EmulatorSettings",
    "FakeClock",
    "FaultRule",
    "Inspector",
    "RateLimit",
    "ReportBook",
    "ReportDefinition",
    "WorkspaceKeys",
    "parse_faults",
    "serve",
]

# Public name → the module defining it.
_DEFINED_IN = {
    "ACCOUNT_STATES": "accounts",
    "AccountState": "accounts",
    "AccountStates": "accounts",
    "CatalogStore": "catalog_store",
    "DEFAULT_RATE_LIMITS": "settings",
    "Emulator": "core",
    "EmulatorServer": "server",
    "EmulatorSettings": "settings",
    "FakeClock": "clock",
    "FaultRule": "faults",
    "Inspector": "inspection",
    "RateLimit": "settings",
    "ReportBook": "report_definitions",
    "ReportDefinition": "report_definitions",
    "WorkspaceKeys": "settings",
    "parse_faults": "faults",
    "serve": "server",
}


def __getattr__(name: str) -> Any:
    module = _DEFINED_IN.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
