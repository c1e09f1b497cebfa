"""What an emulator keeps: settings, stored data, rate windows, faults, counters, accounts.

Endpoint families and the inspection API read and change this state; the request pipeline
(``core.Emulator``) adds routing on top of it.
"""

from __future__ import annotations

from moengage_pipelines.emulator.accounts import AccountStates
from moengage_pipelines.emulator.counters import RequestCounters
from moengage_pipelines.emulator.faults import FaultInjector
from moengage_pipelines.emulator.ratelimits import RateLimiter
from moengage_pipelines.emulator.settings import EmulatorSettings
from moengage_pipelines.emulator.store import Store

__all__ = ["EmulatorState"]


class EmulatorState:
    """The state of one emulator.

    Args:
        settings: Configuration; defaults to the test workspace and keys.

    Attributes:
        settings: The configuration.
        store: Persistent state (users, events, devices, catalogs, reports...).
        limiter: Rate limits, shared by every client of a workspace.
        faults: Fault injector; change rules at run time with ``set``/``add``/``clear``.
        counters: Requests and statuses per endpoint.
        accounts: Account state of each workspace; change it with ``set(state, workspace)``.
    """

    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.store = Store(self.settings.database)
        self.limiter = RateLimiter(self.settings, self.settings.clock)
        self.faults = FaultInjector(self.settings.faults, self.settings.fault_seed)
        self.counters = RequestCounters()
        self.accounts = AccountStates(
            self.settings.workspaces, self.settings.account_states, self.settings.workspace_id
        )

    def now(self) -> float:
        """Real time (from the settings' clock)."""
        return self.settings.clock()

    def close(self) -> None:
        """Release the database."""
        self.store.close()
