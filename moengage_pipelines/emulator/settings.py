"""How an emulator instance is configured: workspaces, keys, limits, time scale, storage."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from moengage_pipelines import limits
from moengage_pipelines.config import (
    DATA_CENTRES,
    ENV_CAMPAIGN_API_KEY,
    ENV_DATA_API_KEY,
    ENV_DC,
    ENV_WORKSPACE_ID,
)
from moengage_pipelines.emulator.accounts import check_state
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.report_definitions import ReportDefinition, reports_from_env
from moengage_pipelines.errors import ConfigError

__all__ = [
    "DEFAULT_RATE_LIMITS",
    "EmulatorSettings",
    "RateLimit",
    "ResetStyle",
    "WorkspaceKeys",
]

ResetStyle = Literal["epoch", "seconds"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One window of a rate-limit pool: at most ``limit`` units per ``period`` seconds."""

    limit: int
    period: float


@dataclass(frozen=True, slots=True)
class WorkspaceKeys:
    """The two API keys of one workspace (kept out of ``repr``)."""

    data_api_key: str = field(repr=False)
    campaign_api_key: str = field(repr=False)
    dc: str = "01"


# Pools as MoEngage documents them, per workspace. A pool spends "units": elements for the
# weighted Data APIs, requests for the others. Every window of a pool must have room.
DEFAULT_RATE_LIMITS: dict[str, tuple[RateLimit, ...]] = {
    "transition_users": (RateLimit(limits.TRANSITION_USERS_PER_MINUTE, 60),),
    "transition_events": (RateLimit(limits.TRANSITION_EVENTS_PER_MINUTE, 60),),
    "customer": (RateLimit(10_000, 60),),
    "event": (RateLimit(30_000, 60),),
    "device": (RateLimit(10_000, 60),),
    "customers_export": (RateLimit(1_000, 60),),
    "customer_merge": (RateLimit(1_000, 60),),
    "customer_delete": (RateLimit(5_000, 60),),
    "campaign_stats": (RateLimit(limits.STATS_REQUESTS_PER_MINUTE, 60),),
    "campaigns": (
        RateLimit(limits.CAMPAIGNS_PER_SECOND, 1),
        RateLimit(limits.CAMPAIGNS_PER_MINUTE, 60),
        RateLimit(limits.CAMPAIGNS_PER_HOUR, 3600),
    ),
    "catalog": (
        RateLimit(limits.CATALOG_REQUESTS_PER_MINUTE, 60),
        RateLimit(limits.CATALOG_REQUESTS_PER_HOUR, 3600),
    ),
}


@dataclass(frozen=True)
class EmulatorSettings:
    """Configuration of one emulator.

    Attributes:
        workspace_id: The default workspace (Basic-auth username, ``MOE-APPKEY``).
        data_api_key: Its Data API key.
        campaign_api_key: Its campaign/catalog/stats/report key.
        time_scale: Emulated seconds per real second for rate windows: 60 makes a minute's
            window last one real second.
        database: SQLite path for persistent state, or ``":memory:"``.
        dc: Data centre of the default workspace; a ``Host: api-{dc}.moengage.com`` header
            naming another data centre is refused as MoEngage would (unknown app id there).
        extra_workspaces: More workspaces served by the same emulator.
        transition_max_bytes: Bulk-import body limit (MoEngage's "100 KB" read as 102,400).
        data_api_max_bytes: Limit of the other Data APIs (128 KB).
        rate_limits: Overrides of ``DEFAULT_RATE_LIMITS`` per pool name.
        rate_limits_enabled: False turns every rate limit off (usage is still recorded).
        ratelimit_reset: ``"epoch"`` (UTC epoch seconds when the window ends, per the
            rate-limits page) or ``"seconds"`` (seconds left, per the data overview).
        retry_after: Also send ``Retry-After`` on 429 (MoEngage documents it only for the
            Offerings API, so it is off by default).
        future_event_tolerance: Seconds an event may lie in the future before it is dropped
            as future-dated (clock skew allowance).
        max_header_bytes: Requests whose headers exceed this get a 431.
        identity_resolution: Accept customers and events without ``customer_id`` when they
            carry an identifier (``moe_mobile``, ``moe_email``...), as Identity Resolution
            workspaces do.
        account_states: Workspace to account state at start-up (``blacklisted``,
            ``suspended``, ``temporarily_suspended``, ``blocked``, ``secret_not_set``; see
            ``moengage_pipelines.emulator.accounts``); unnamed workspaces are ``active``.
        fault_seed: Seed of the fault injector's random draws.
        faults: Fault rules active from start-up (see ``moengage_pipelines.emulator.faults``).
        reports: Campaign report definitions added at start-up (replacing stored ones of the
            same name); a definition naming no workspace belongs to ``workspace_id``.
        clock: Source of real time (tests may pass a fake one).
    """

    workspace_id: str = "TEST_WORKSPACE"
    data_api_key: str = field(default="test-data-key", repr=False)
    campaign_api_key: str = field(default="test-campaign-key", repr=False)
    time_scale: float = 1.0
    database: str = ":memory:"
    dc: str = "01"
    extra_workspaces: Mapping[str, WorkspaceKeys] = field(default_factory=dict)
    transition_max_bytes: int = limits.TRANSITION_HARD_MAX_BYTES
    data_api_max_bytes: int = limits.DATA_API_MAX_BYTES
    rate_limits: Mapping[str, tuple[RateLimit, ...]] = field(default_factory=dict)
    rate_limits_enabled: bool = True
    ratelimit_reset: ResetStyle = "epoch"
    retry_after: bool = False
    future_event_tolerance: float = 300.0
    max_header_bytes: int = 16 * 1024
    identity_resolution: bool = False
    account_states: Mapping[str, str] = field(default_factory=dict)
    fault_seed: int = 0
    faults: tuple[FaultRule, ...] = ()
    reports: tuple[ReportDefinition, ...] = ()
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.workspace_id or not self.workspace_id.strip():
            raise ConfigError("the emulator needs a workspace id")
        if not self.data_api_key or not self.campaign_api_key:
            raise ConfigError("the emulator needs both a data key and a campaign key")
        if not self.time_scale > 0:
            raise ConfigError(f"time_scale must be positive, got {self.time_scale!r}")
        if self.ratelimit_reset not in ("epoch", "seconds"):
            raise ConfigError(
                f"ratelimit_reset must be 'epoch' or 'seconds', got {self.ratelimit_reset!r}"
            )
        for dc in [self.dc, *(keys.dc for keys in self.extra_workspaces.values())]:
            if dc not in DATA_CENTRES:
                raise ConfigError(
                    f"unknown data centre {dc!r}; expected one of {', '.join(DATA_CENTRES)}"
                )
        unknown = set(self.rate_limits) - set(DEFAULT_RATE_LIMITS)
        if unknown:
            raise ConfigError(f"unknown rate-limit pools: {', '.join(sorted(unknown))}")
        for workspace, state in self.account_states.items():
            check_state(state)
            if workspace not in self.workspaces:
                raise ConfigError(
                    f"account_states names workspace {workspace!r}, "
                    "which the emulator does not serve"
                )
        object.__setattr__(self, "reports", tuple(self.reports))
        for report in self.reports:
            if not isinstance(report, ReportDefinition):
                raise ConfigError(f"reports must be ReportDefinition values, got {report!r}")
            if report.workspace is not None and report.workspace not in self.workspaces:
                raise ConfigError(
                    f"report {report.name!r} names workspace {report.workspace!r}, "
                    "which the emulator does not serve"
                )

    @functools.cached_property
    def workspaces(self) -> Mapping[str, WorkspaceKeys]:
        """Every workspace served, the default one first (built once: every request reads it)."""
        default = WorkspaceKeys(self.data_api_key, self.campaign_api_key, self.dc)
        return MappingProxyType({self.workspace_id: default, **dict(self.extra_workspaces)})

    def limits_of(self, pool: str) -> tuple[RateLimit, ...]:
        """The windows of a pool after overrides."""
        return tuple(self.rate_limits.get(pool, DEFAULT_RATE_LIMITS[pool]))

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> EmulatorSettings:
        """Build settings from the ``MOENGAGE_*`` variables the library also reads.

        Missing variables fall back to the test defaults (``TEST_WORKSPACE``,
        ``test-data-key``, ``test-campaign-key``). ``MOENGAGE_EMULATOR_REPORTS`` (a JSON list
        of report definitions, or ``@path`` to one) gives ``reports``.

        Args:
            environ: Mapping to read instead of ``os.environ``.
            **overrides: Other fields (``time_scale``, ``database``...); they win over the
                variables.

        Raises:
            ConfigError: When a variable holds an invalid value.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get(ENV_WORKSPACE_ID, "").strip():
            values["workspace_id"] = env[ENV_WORKSPACE_ID].strip()
        if env.get(ENV_DATA_API_KEY):
            values["data_api_key"] = env[ENV_DATA_API_KEY]
        if env.get(ENV_CAMPAIGN_API_KEY):
            values["campaign_api_key"] = env[ENV_CAMPAIGN_API_KEY]
        if env.get(ENV_DC, "").strip():
            dc = env[ENV_DC].strip()
            values["dc"] = f"0{dc}" if dc.isdigit() and len(dc) == 1 else dc
        if "reports" not in overrides:
            values["reports"] = tuple(reports_from_env(env))
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
