"""Account states of the emulated workspaces: the documented reasons MoEngage refuses a workspace.

A workspace is ``active`` unless a test puts it in one of the states MoEngage's Data API
error table names (data-overview):

* ``blacklisted``: 400 ``Blacklisted`` "Your account is blacklisted, Please contact MoEngage.";
* ``suspended``: 403 ``Account Suspended``;
* ``temporarily_suspended``: 403 ``Account Temporarily Suspended``;
* ``blocked``: 403 ``BlockedClient``;
* ``secret_not_set``: the Data API key was never set: 409 "App Secret key is not set. Please
  login to the dashboard to set a key" on the Data APIs, whatever key is sent.

Each endpoint answers in its own envelope (``envelope_table``, ``account_*`` rows); the states are
configuration, kept across ``reset()``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Literal, cast

from moengage_pipelines.errors import ConfigError

__all__ = ["ACCOUNT_STATES", "REFUSING_STATES", "AccountState", "AccountStates"]

AccountState = Literal[
    "active", "blacklisted", "suspended", "temporarily_suspended", "blocked", "secret_not_set"
]
ACCOUNT_STATES: tuple[AccountState, ...] = (
    "active",
    "blacklisted",
    "suspended",
    "temporarily_suspended",
    "blocked",
    "secret_not_set",
)
# States refused after authentication (``secret_not_set`` is refused while authenticating).
REFUSING_STATES = frozenset({"blacklisted", "suspended", "temporarily_suspended", "blocked"})


def check_state(state: object) -> AccountState:
    """The state, or ``ConfigError`` naming the valid ones."""
    if state not in ACCOUNT_STATES:
        raise ConfigError(
            f"unknown account state {state!r}; expected one of {', '.join(ACCOUNT_STATES)}"
        )
    return cast(AccountState, state)


class AccountStates:
    """The state of every workspace, changeable while the emulator runs (thread-safe).

    Args:
        workspaces: The workspaces served.
        initial: States at start-up (``EmulatorSettings.account_states``).
        default_workspace: Workspace of calls that name none.
    """

    def __init__(
        self,
        workspaces: Mapping[str, object],
        initial: Mapping[str, str],
        default_workspace: str,
    ) -> None:
        self._workspaces = workspaces
        self._default = default_workspace
        self._lock = threading.Lock()
        self._states: dict[str, AccountState] = {}
        for workspace, state in initial.items():
            self.set(state, workspace)

    def _workspace(self, workspace: str | None) -> str:
        name = workspace or self._default
        if name not in self._workspaces:
            raise ConfigError(f"the emulator serves no workspace {name!r}")
        return name

    def get(self, workspace: str | None = None) -> AccountState:
        """A workspace's state (``active`` unless set)."""
        return self._states.get(workspace or self._default, "active")

    def set(self, state: str, workspace: str | None = None) -> None:
        """Put a workspace in a state (``active`` restores it).

        Raises:
            ConfigError: For an unknown state or workspace.
        """
        checked, name = check_state(state), self._workspace(workspace)
        with self._lock:
            if checked == "active":
                self._states.pop(name, None)
            else:
                self._states[name] = checked

    def describe(self) -> dict[str, AccountState]:
        """Every workspace with its state."""
        with self._lock:
            return {
                workspace: self._states.get(workspace, "active") for workspace in self._workspaces
            }
