"""Building the budget a workspace's clients share, from a short store name or URL."""

from __future__ import annotations

import os
from collections.abc import Mapping

from moengage_pipelines.api.exceptions import RateBudgetStoreError
from moengage_pipelines.api.ratebudget.budget import RateBudget
from moengage_pipelines.api.ratebudget.memory import MemoryBudgetStore
from moengage_pipelines.api.ratebudget.sqlite import SQLiteBudgetStore
from moengage_pipelines.api.ratebudget.windows import BudgetLimits
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.errors import ConfigError
from moengage_pipelines.redaction import redact_url

__all__ = [
    "BUDGET_STORE_VARIABLE",
    "budget_for_workspace",
    "budget_from_environment",
    "checked_budget",
    "namespace_for",
]

# Names the store every client, CLI command and Dagster step of a deployment shares.
BUDGET_STORE_VARIABLE = "MOENGAGE_RATE_BUDGET_STORE"


def namespace_for(workspace: str | MoEngageSettings) -> str:
    """The budget namespace of a workspace.

    It is the workspace id; with settings whose ``base_url`` overrides the host (an emulator),
    the URL (without any password) is part of it, so a local emulator never shares a budget with
    MoEngage itself nor with another emulator.
    """
    if isinstance(workspace, MoEngageSettings):
        if workspace.base_url:
            return f"{workspace.api_base_redacted}|{workspace.workspace_id}"
        return workspace.workspace_id
    return workspace


def budget_for_workspace(
    workspace: str | MoEngageSettings,
    *,
    store: str = "file",
    limits: BudgetLimits | None = None,
    time_scale: float = 1.0,
    slack: float = 0.05,
    max_wait: float | None = None,
) -> RateBudget:
    """The rate budget every client of ``workspace`` should share.

    Args:
        workspace: Workspace id, or the settings (see :func:`namespace_for`).
        store: ``"file"`` (the machine-wide SQLite file, the default), ``"memory"`` (this
            process only), or a URL: ``sqlite:////abs/path.sqlite``, ``redis://host:port/db``.
        limits: Bucket windows; MoEngage's documented numbers by default.
        time_scale: Match an emulator running faster than real time.
        slack: Real seconds added to every window (see :class:`RateBudget`).
        max_wait: Longest wait of one ``acquire``; None waits as long as needed.

    Raises:
        ConfigError: For an unknown store.
    """
    options = {
        "namespace": namespace_for(workspace),
        "limits": limits,
        "time_scale": time_scale,
        "slack": slack,
        "max_wait": max_wait,
    }
    name = store.strip()
    if name in {"", "file", "sqlite"}:
        return RateBudget(SQLiteBudgetStore(), **options)  # type: ignore[arg-type]
    if name == "memory":
        return RateBudget(MemoryBudgetStore(), **options)  # type: ignore[arg-type]
    return RateBudget.from_url(name, **options)


def checked_budget(
    workspace: str | MoEngageSettings,
    store: str,
    *,
    setting: str = BUDGET_STORE_VARIABLE,
    **options: float | None,
) -> RateBudget:
    """:func:`budget_for_workspace`, with its store opened once to prove it works.

    Args:
        workspace: Workspace id, or the settings.
        store: The store name or URL.
        setting: Where ``store`` was read (a variable, a resource field), named in the error.
        **options: ``time_scale``, ``slack``, ``max_wait`` (see :func:`budget_for_workspace`).

    Raises:
        ConfigError: Naming ``setting``, the store (without its password) and the problem:
            an unknown name, a SQLite file that cannot be created, a Redis that does not
            answer.
    """
    shown = redact_url(store.strip())
    try:
        budget = budget_for_workspace(workspace, store=store, **options)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise ConfigError(f"{setting}={shown!r} does not work: {exc}") from None
    try:
        budget.check()
    except RateBudgetStoreError as exc:
        budget.close()
        raise ConfigError(f"{setting}={shown!r} does not work: {exc}") from None
    return budget


def budget_from_environment(
    settings: MoEngageSettings, environ: Mapping[str, str] | None = None
) -> RateBudget:
    """The budget named by ``MOENGAGE_RATE_BUDGET_STORE`` (``file`` when unset), checked.

    Raises:
        ConfigError: Naming the variable when its store is unknown or does not work.
    """
    env = os.environ if environ is None else environ
    return checked_budget(settings, env.get(BUDGET_STORE_VARIABLE) or "file")
