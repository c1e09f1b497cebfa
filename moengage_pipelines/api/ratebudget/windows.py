"""Rate windows and MoEngage's documented budgets per workspace.

A *bucket* is one pool MoEngage counts against (for example every catalog endpoint shares
one); it has one or more *windows* (per second, minute, hour, day), and a request is admitted
only when it fits in all of them. Weights let one request spend many units: a bulk-import
body spends its users and its events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from moengage_pipelines import limits

__all__ = [
    "CAMPAIGNS",
    "CAMPAIGN_STATS",
    "CATALOG",
    "GET_USER",
    "STATS_WINDOW_MARGIN_SECONDS",
    "TRANSITION_EVENTS",
    "TRANSITION_USERS",
    "BudgetLimits",
    "Window",
    "default_limits",
]

TRANSITION_USERS = "transition_users"
TRANSITION_EVENTS = "transition_events"
CATALOG = "catalog"
CAMPAIGN_STATS = "campaign_stats"
CAMPAIGNS = "campaigns"
GET_USER = "get_user"

SECOND = 1.0
MINUTE = 60.0
HOUR = 3_600.0
DAY = 86_400.0

STATS_WINDOW_MARGIN_SECONDS = 2.0
"""Campaign stats: the budget's minute is this much longer than MoEngage's. 100 requests in
any 62 s means any 60 s holds at most 100 even when MoEngage counts a request up to 2 s
later or earlier than it was sent (a sliding window, latency, clock skew), for 3% less
throughput."""


@dataclass(frozen=True, slots=True)
class Window:
    """At most ``limit`` units in any span of ``seconds`` (a sliding window).

    Attributes:
        limit: Units allowed in the window (requests, users or events).
        seconds: Length of the window in MoEngage's time (before any ``time_scale``).
    """

    limit: int
    seconds: float

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"a rate window needs a limit of at least 1, got {self.limit}")
        if self.seconds <= 0:
            raise ValueError(f"a rate window needs a positive length, got {self.seconds}")

    @classmethod
    def per_second(cls, limit: int) -> Window:
        """``limit`` units a second."""
        return cls(limit, SECOND)

    @classmethod
    def per_minute(cls, limit: int) -> Window:
        """``limit`` units a minute."""
        return cls(limit, MINUTE)

    @classmethod
    def per_hour(cls, limit: int) -> Window:
        """``limit`` units an hour."""
        return cls(limit, HOUR)

    @classmethod
    def per_day(cls, limit: int) -> Window:
        """``limit`` units a day."""
        return cls(limit, DAY)

    def describe(self) -> str:
        """Human form such as ``100/min``."""
        names = {SECOND: "s", MINUTE: "min", HOUR: "h", DAY: "day"}
        unit = names.get(self.seconds, f"{self.seconds:g}s")
        return f"{self.limit}/{unit}"


BudgetLimits = Mapping[str, Sequence[Window]]
"""Bucket name → its windows. Buckets not listed are not limited."""


def default_limits() -> dict[str, tuple[Window, ...]]:
    """MoEngage's documented per-workspace budgets (see :mod:`moengage_pipelines.limits`).

    * ``transition_users`` / ``transition_events``: bulk import, users and event actions a
      minute, counted across all requests.
    * ``catalog``: the six catalog endpoints combined, a minute and an hour.
    * ``campaign_stats``: requests a minute, over a minute lengthened by
      :data:`STATS_WINDOW_MARGIN_SECONDS` so a sliding window on MoEngage's side never sees
      more than 100.
    * ``campaigns``: legacy search/meta/status, a second, a minute and an hour.
    * ``get_user``: Get User (``/v1/customers/export``), users looked up a minute.
    """
    return {
        TRANSITION_USERS: (Window.per_minute(limits.TRANSITION_USERS_PER_MINUTE),),
        TRANSITION_EVENTS: (Window.per_minute(limits.TRANSITION_EVENTS_PER_MINUTE),),
        CATALOG: (
            Window.per_minute(limits.CATALOG_REQUESTS_PER_MINUTE),
            Window.per_hour(limits.CATALOG_REQUESTS_PER_HOUR),
        ),
        CAMPAIGN_STATS: (
            Window(limits.STATS_REQUESTS_PER_MINUTE, MINUTE + STATS_WINDOW_MARGIN_SECONDS),
        ),
        CAMPAIGNS: (
            Window.per_second(limits.CAMPAIGNS_PER_SECOND),
            Window.per_minute(limits.CAMPAIGNS_PER_MINUTE),
            Window.per_hour(limits.CAMPAIGNS_PER_HOUR),
        ),
        GET_USER: (Window.per_minute(limits.GET_USER_USERS_PER_MINUTE),),
    }
