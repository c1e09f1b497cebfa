"""A local MoEngage: the same HTTP API, seen from MoEngage's side, as a test oracle.

Run it in-process (``Emulator(settings).transport()`` for ``httpx``) or on a real socket
(``serve(emulator)`` or ``moengage-pipelines emulator``). See ``docs/emulator.md``.
"""

from moengage_pipelines.emulator.accounts import ACCOUNT_STATES, AccountState, AccountStates
from moengage_pipelines.emulator.catalog_store import CatalogStore
from moengage_pipelines.emulator.core import Call, Emulator
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
    "Call",
    "CatalogStore",
    "Emulator",
    "EmulatorServer",
    "EmulatorSettings",
    "FaultRule",
    "Inspector",
    "RateLimit",
    "ReportBook",
    "ReportDefinition",
    "WorkspaceKeys",
    "parse_faults",
    "serve",
]
