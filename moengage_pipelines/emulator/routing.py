"""Routes: which handler answers a method and path, and the rules every call to it follows.

An endpoint family is one module with a ``register(router, state)`` function adding its
routes. The shared pipeline (``moengage_pipelines.emulator.core``) applies a route's declared
rules (authentication, ``MOE-APPKEY``, content type, byte limit, JSON parsing) before its
handler runs, so handlers only hold the endpoint's own logic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.envelope_table import Family
from moengage_pipelines.emulator.http import Response

__all__ = [
    "INSPECTION_PREFIX",
    "AppKeyRule",
    "Handler",
    "KeyFamily",
    "Route",
    "RouteMatch",
    "Router",
    "family_for_path",
    "inspection_route",
]

KeyFamily = Literal["data", "campaign"]
AppKeyRule = Literal["optional", "required", "ignored"]
Handler = Callable[[Call], Response]

# No MoEngage path starts with it.
INSPECTION_PREFIX = "/_emulator"

_PARAM = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    """One endpoint.

    Attributes:
        method: HTTP method.
        pattern: Path with ``{name}`` placeholders, e.g. ``/v1/transition/{workspace_id}``.
        endpoint: Stable name used by counters, faults and the inspection API.
        handler: Function answering a ``Call``.
        family: API family whose envelope answers this endpoint's errors.
        auth: Key family checked with HTTP Basic, or None for no Basic auth (inspection,
            signature-checked downloads).
        appkey: ``MOE-APPKEY`` rule: ``optional`` (must match when present), ``required``,
            or ``ignored``.
        workspace_param: Path placeholder or query parameter naming the workspace, which
            must equal the Basic-auth username (``app_id`` in the query for merge/delete/export).
        workspace_in_query: True when ``workspace_param`` is a query parameter.
        max_bytes: Body limit answered with 413, or None.
        json_body: Whether the body must be JSON (Content-Type checked, body parsed).
        pools: Rate-limit pools of the endpoint; the first one's windows describe 429s
            injected as faults.
        weighted: False spends one unit of every pool per request before the body is
            read; True leaves spending to the handler, which knows the weight (elements).
        counted: False keeps the route out of counters (the inspection API).
    """

    method: str
    pattern: str
    endpoint: str
    handler: Handler
    family: Family = "data"
    auth: KeyFamily | None = "data"
    appkey: AppKeyRule = "optional"
    workspace_param: str | None = None
    workspace_in_query: bool = False
    max_bytes: int | None = None
    json_body: bool = True
    pools: tuple[str, ...] = ()
    weighted: bool = False
    counted: bool = True
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = _PARAM.split(self.pattern)
        # Literal segments escaped; placeholders match one path segment.
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
        )
        object.__setattr__(self, "regex", re.compile(f"^{regex}/?$"))


@dataclass(frozen=True, slots=True)
class RouteMatch:
    """A route and the values of its placeholders."""

    route: Route
    params: dict[str, str]


class Router:
    """Routes by method and path. Patterns without placeholders are matched first."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    @property
    def routes(self) -> tuple[Route, ...]:
        """Every registered route."""
        return tuple(self._routes)

    def add(self, route: Route) -> None:
        """Register a route.

        Raises:
            ValueError: If the same method and pattern is already registered.
        """
        for existing in self._routes:
            if existing.method == route.method and existing.pattern == route.pattern:
                raise ValueError(f"{route.method} {route.pattern} is already registered")
        self._routes.append(route)
        # Literal paths (``/v1/customer/merge``) beat placeholders (``/v1/customer/{app_id}``).
        self._routes.sort(key=lambda r: (r.pattern.count("{"), -len(r.pattern)))

    def match(self, method: str, path: str) -> RouteMatch | list[str] | None:
        """Find the route for a request.

        Returns:
            The match; or, when the path exists for other methods only, the allowed methods;
            or None when no route has this path.
        """
        allowed: list[str] = []
        for route in self._routes:
            found = route.regex.match(path)
            if found is None:
                continue
            if route.method == method:
                return RouteMatch(route, found.groupdict())
            if route.method not in allowed:
                allowed.append(route.method)
        return allowed or None


def inspection_route(method: str, path: str, handler: Handler) -> Route:
    """A route of the inspection API: under ``/_emulator``, no auth, uncounted, Data errors."""
    return Route(
        method,
        INSPECTION_PREFIX + path,
        "inspection",
        handler,
        auth=None,
        appkey="ignored",
        json_body=False,
        counted=False,
    )


def family_for_path(path: str) -> Family:
    """Which family's envelope fits a path no route answers, judged by its prefix."""
    if path.startswith("/core-services/v1/campaign-stats"):
        return "stats"
    if path.startswith("/core-services/"):
        return "campaigns"
    if path == "/v1/catalog" or path.startswith("/v1/catalog/"):
        return "catalog"
    if path.startswith("/campaign_reports/"):
        return "reports"
    return "data"
