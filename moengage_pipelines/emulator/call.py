"""``Call``: one request on its way through an endpoint handler, and what the handler may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moengage_pipelines.emulator.envelope_table import Family, Situation
from moengage_pipelines.emulator.envelopes import render
from moengage_pipelines.emulator.http import ApiError, Request, Response, json_response
from moengage_pipelines.emulator.inspection import Inspector
from moengage_pipelines.emulator.request_body import parse_json
from moengage_pipelines.emulator.settings import EmulatorSettings
from moengage_pipelines.emulator.state import EmulatorState
from moengage_pipelines.emulator.store import Store

__all__ = ["NO_BODY", "Call"]

# ``Call.body`` before the body is read (None is a valid JSON document).
NO_BODY: Any = object()


@dataclass
class Call:
    """One request on its way through a handler.

    Attributes:
        state: The emulator's state (store, settings, limiter...).
        request: The request.
        endpoint: The route's endpoint name (counters, faults, drops).
        family: The route's API family, whose envelope its errors use.
        pools: The route's rate-limit pools.
        params: Path placeholders.
        workspace: Authenticated workspace (None on routes without auth).
        request_id: Id reported in the answer.
        now: Real time when the request arrived.
        body: The parsed JSON body, once read.
        rate_headers: ``x-ratelimit-*`` headers of the most constrained window spent.
    """

    state: EmulatorState
    request: Request
    endpoint: str
    family: Family
    pools: tuple[str, ...]
    params: dict[str, str]
    workspace: str | None
    request_id: str
    now: float
    body: Any = NO_BODY
    rate_headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def store(self) -> Store:
        """The emulator's store."""
        return self.state.store

    @property
    def settings(self) -> EmulatorSettings:
        """The emulator's settings."""
        return self.state.settings

    @property
    def inspect(self) -> Inspector:
        """The Python inspection API over the emulator's state."""
        return Inspector(self.state)

    @property
    def ws(self) -> str:
        """The workspace (routes with auth always have one)."""
        return self.workspace or self.settings.workspace_id

    def json(self) -> Any:
        """The parsed JSON body (the pipeline parsed it for JSON routes).

        Raises:
            ApiError: 400 when the body is empty or not JSON.
        """
        if self.body is NO_BODY:
            self.body = parse_json(self.request, self.family, self.request_id)
        return self.body

    def spend(self, pool: str, weight: int = 1, *more: tuple[str, int]) -> None:
        """Spend units of rate-limit pools of this workspace, all or nothing.

        Args:
            pool: Pool name.
            weight: Units of that pool.
            *more: Further ``(pool, weight)`` pairs spent together with the first.

        Raises:
            ApiError: 429 in the endpoint's envelope when a window has no room.
        """
        limiter = self.state.limiter
        decision = limiter.acquire_many(self.ws, ((pool, weight), *more))
        headers = limiter.headers(decision)
        if not self.rate_headers or decision.remaining < int(
            dict(self.rate_headers)["x-ratelimit-remaining"]
        ):
            self.rate_headers = headers
        if not decision.allowed:
            raise ApiError(render(self.family, "rate_limited", self.request_id, headers=headers))

    def fail(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        attribute: str | None = None,
    ) -> ApiError:
        """An error in the endpoint's envelope, to ``raise``."""
        return ApiError(
            render(
                self.family,
                "error",
                self.request_id,
                status=status,
                message=message,
                type=type,
                attribute=attribute,
            )
        )

    def refuse(self, situation: Situation, **fields: str) -> ApiError:
        """A situation of the envelope table (``body_not_json``...) in the endpoint's envelope."""
        return ApiError(render(self.family, situation, self.request_id, **fields))

    def ok(self, document: Any, status: int = 200) -> Response:
        """A JSON success answer."""
        return json_response(status, document)
