"""The emulator: one request handler shared by the ASGI app and the in-process transport.

Every request goes through the same pipeline, in this order:

1. route by method and path (404/405 in the envelope of the path's API family);
2. header size (431, checked first of all);
3. data centre of a ``Host: api-{dc}.moengage.com`` header;
4. HTTP Basic auth with the route's key family, ``MOE-APPKEY``, the workspace named in
   the path or ``app_id`` query (401/403/409/400), then the workspace's account state
   (400/403 when MoEngage refuses the account);
5. faults decided for this request (injected 5xx, timeout, 429 burst, an HTML page, an
   error quoting the credentials, latency);
6. request-count rate limits (429 with ``x-ratelimit-*``);
7. Content-Type (400 when missing, 415 when not JSON), byte limit (413), JSON parsing (400);
8. the endpoint handler (validation, weighted rate limits, then applying the data);
9. connection reset, or an HTML page answered, after applying, when a ``reset`` or an
   applying ``garbled`` fault fires.

A bug inside a handler becomes a 500 in the endpoint's envelope, never a traceback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from types import ModuleType

import moengage_pipelines.emulator.auth as auth
from moengage_pipelines.emulator.asgi import AsgiApp
from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.endpoints import (
    campaign_meta,
    campaigns,
    catalog,
    inspection_views,
    reports,
    stats,
    tracking,
    users,
)
from moengage_pipelines.emulator.envelopes import render
from moengage_pipelines.emulator.fault_answers import credentials_echo, garbled_page
from moengage_pipelines.emulator.http import ApiError, Delivery, Request, Response, new_request_id
from moengage_pipelines.emulator.inspection import Inspector
from moengage_pipelines.emulator.ratelimits import RateDecision
from moengage_pipelines.emulator.request_body import check_content_type, check_size, parse_json
from moengage_pipelines.emulator.routing import Route, RouteMatch, Router, family_for_path
from moengage_pipelines.emulator.settings import EmulatorSettings
from moengage_pipelines.emulator.state import EmulatorState
from moengage_pipelines.emulator.transport import AsyncEmulatorTransport, EmulatorTransport

__all__ = ["ENDPOINT_MODULES", "Emulator"]

logger = logging.getLogger("moengage_pipelines.emulator")

# Every endpoint family: each module's ``register(router, state)`` adds its routes.
ENDPOINT_MODULES: tuple[ModuleType, ...] = (
    tracking,
    users,
    campaigns,
    campaign_meta,
    stats,
    catalog,
    reports,
    inspection_views,
)


class Emulator(EmulatorState):
    """A local MoEngage: its state, its routes and the request pipeline.

    Args:
        settings: Configuration; defaults to the test workspace and keys.
        endpoint_modules: Modules with ``register(router, state)`` adding routes; defaults
            to ``ENDPOINT_MODULES``.

    Attributes:
        settings: The configuration.
        store: Persistent state.
        limiter: Rate limits, shared by every client of a workspace.
        faults: Fault injector; change rules at run time with ``set``/``add``/``clear``.
        counters: Requests and statuses per endpoint.
        accounts: Account state of each workspace; change it with ``set(state, workspace)``.
        router: The routes.
        inspect: Python inspection API.
        asgi_app: The ASGI application (for uvicorn).
    """

    def __init__(
        self,
        settings: EmulatorSettings | None = None,
        *,
        endpoint_modules: Iterable[ModuleType] | None = None,
    ) -> None:
        super().__init__(settings)
        self.router = Router()
        for module in ENDPOINT_MODULES if endpoint_modules is None else endpoint_modules:
            module.register(self.router, self)
        self.inspect = Inspector(self)
        self.asgi_app = AsgiApp(self.handle)

    def __repr__(self) -> str:
        settings = self.settings
        return f"Emulator(workspace_id={settings.workspace_id!r}, database={settings.database!r})"

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def transport(self) -> EmulatorTransport:
        """A synchronous ``httpx`` transport answering in-process with this emulator."""
        return EmulatorTransport(self.handle)

    def async_transport(self) -> AsyncEmulatorTransport:
        """An asynchronous ``httpx`` transport answering in-process with this emulator."""
        return AsyncEmulatorTransport(self.handle)

    # -- the pipeline ---------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request (the shared handler)."""
        request_id = new_request_id()
        found = self.router.match(request.method, request.path)
        if (
            found is None
            or isinstance(found, list)
            or request.header_bytes > self.settings.max_header_bytes
        ):
            family = (
                found.route.family
                if isinstance(found, RouteMatch)
                else family_for_path(request.path)
            )
            if request.header_bytes > self.settings.max_header_bytes:
                response = render(family, "header_too_large", request_id)
            elif found is None:
                response = render(family, "not_found", request_id)
            else:
                response = render(
                    family, "method_not_allowed", request_id, headers=(("allow", ", ".join(found)),)
                )
            endpoint = (
                "unmatched" if found is None or isinstance(found, list) else found.route.endpoint
            )
            self.counters.record(endpoint, response.status)
            return response
        route = found.route
        try:
            response = self._run(route, found.params, request, request_id)
        except ApiError as error:
            response = error.response
        except Exception:
            logger.exception("emulator bug while answering %s %s", request.method, request.path)
            response = render(route.family, "server_error", request_id, status=500)
        if route.counted:
            outcome = None if response.delivery is Delivery.NORMAL else response.delivery.value
            status = response.status if response.delivery is Delivery.NORMAL else None
            self.counters.record(route.endpoint, status, outcome=outcome)
        return response

    def _run(
        self, route: Route, params: dict[str, str], request: Request, request_id: str
    ) -> Response:
        family = route.family
        host_dc = auth.check_host(request, request_id, family)
        workspace = None
        if route.auth is not None:
            workspace = auth.authenticate(
                request, route, self.settings, request_id, host_dc, self.accounts.get
            )
            auth.check_workspace_param(request, route, params, workspace, request_id, self.settings)
            auth.check_account(family, self.accounts.get(workspace), request_id)
        call = Call(
            self,
            request,
            route.endpoint,
            family,
            route.pools,
            params,
            workspace,
            request_id,
            self.now(),
        )
        decision = self.faults.before(route.endpoint) if route.counted else None
        if decision is not None:
            if decision.error_status is not None:
                injected = render(family, "server_error", request_id, status=decision.error_status)
                return self._delayed(injected, decision.delay, True)
            if decision.timeout is not None:
                return Response(
                    504, delivery=Delivery.TIMEOUT, hang=decision.timeout, delay=decision.delay
                )
            if decision.rate_limited:
                headers = self._injected_429_headers(route)
                injected = render(family, "rate_limited", request_id, headers=headers)
                return self._delayed(injected, decision.delay, True)
            if decision.garbled:
                return self._delayed(garbled_page(), decision.delay, True)
            if decision.echo_auth_status is not None:
                injected = credentials_echo(family, request, request_id, decision.echo_auth_status)
                return self._delayed(injected, decision.delay, True)
        if not route.weighted:
            for pool in route.pools:
                call.spend(pool)
        if route.json_body:
            check_content_type(request, family, request_id)
            check_size(request, family, request_id, route.max_bytes)
            call.body = parse_json(request, family, request_id)
        try:
            response = route.handler(call)
        except ApiError as error:
            response = error.response
            self._add_headers(response, call.rate_headers)
            return self._delayed(response, decision.delay if decision else 0.0)
        self._add_headers(response, call.rate_headers)
        if 200 <= response.status < 300 and route.counted:
            if self.faults.reset_after_apply(route.endpoint):
                response.delivery = Delivery.RESET
                self.counters.answer_lost(request_id)
            elif self.faults.garbled_after_apply(route.endpoint):
                response = garbled_page()
                response.headers.append(("x-emulator-fault", "injected"))
                self.counters.answer_lost(request_id)
        return self._delayed(response, decision.delay if decision else 0.0)

    @staticmethod
    def _delayed(response: Response, delay: float, injected: bool = False) -> Response:
        response.delay += delay
        if injected:
            response.headers.append(("x-emulator-fault", "injected"))
        return response

    @staticmethod
    def _add_headers(response: Response, headers: tuple[tuple[str, str], ...]) -> None:
        present = {name for name, _ in response.headers}
        response.headers.extend((n, v) for n, v in headers if n not in present)

    def _injected_429_headers(self, route: Route) -> tuple[tuple[str, str], ...]:
        if not route.pools:
            return ()
        window = self.limiter.windows_of(route.pools[0])[0]
        length = window.period / self.settings.time_scale
        now = self.now()
        reset_at = (math.floor(now / length) + 1) * length
        return self.limiter.headers(RateDecision(False, window.limit, 0, reset_at, window.period))
