"""The emulator: one request handler shared by the ASGI app and the in-process transport.

Every request goes through the same pipeline, in this order:

1. route by method and path (404/405 in the envelope of the path's API family);
2. header size (431, checked first of all);
3. data centre of a ``Host: api-{dc}.moengage.com`` header;
4. HTTP Basic auth with the route's key family, ``MOE-APPKEY``, the workspace named in
   the path or ``app_id`` query (401/403/409/400), then the workspace's account state
   (400/403 when MoEngage refuses the account);
5. faults decided for this request (injected 5xx, timeout, 429 burst, latency);
6. request-count rate limits (429 with ``x-ratelimit-*``);
7. Content-Type (400 when missing, 415 when not JSON), byte limit (413), JSON parsing (400);
8. the endpoint handler (validation, weighted rate limits, then applying the data);
9. connection reset after applying, when a ``reset`` fault fires.

A bug inside a handler becomes a 500 in the endpoint's envelope, never a traceback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from moengage_pipelines.emulator import auth
from moengage_pipelines.emulator.accounts import AccountStates
from moengage_pipelines.emulator.asgi import AsgiApp
from moengage_pipelines.emulator.counters import RequestCounters
from moengage_pipelines.emulator.faults import FaultInjector
from moengage_pipelines.emulator.http import (
    ApiError,
    Delivery,
    Request,
    Response,
    json_response,
    new_request_id,
)
from moengage_pipelines.emulator.inspection import Inspector
from moengage_pipelines.emulator.ratelimits import RateDecision, RateLimiter
from moengage_pipelines.emulator.routing import Route, RouteMatch, Router, envelope_for_path
from moengage_pipelines.emulator.settings import EmulatorSettings
from moengage_pipelines.emulator.store import Store
from moengage_pipelines.emulator.transport import AsyncEmulatorTransport, EmulatorTransport

__all__ = ["Call", "Emulator"]

logger = logging.getLogger("moengage_pipelines.emulator")

_NO_BODY = object()


def _size_text(limit: int) -> str:
    return (
        f"{round(limit / 1024)} KB" if limit < 1024 * 1024 else f"{round(limit / 1024 / 1024)} MB"
    )


@dataclass
class Call:
    """One request on its way through a handler.

    Attributes:
        emulator: The emulator (store, settings, limiter...).
        request: The request.
        route: The matched route.
        params: Path placeholders.
        workspace: Authenticated workspace (None on routes without auth).
        request_id: Id reported in the answer.
        now: Real time when the request arrived.
    """

    emulator: Emulator
    request: Request
    route: Route
    params: dict[str, str]
    workspace: str | None
    request_id: str
    now: float
    body: Any = _NO_BODY
    rate_headers: tuple[tuple[str, str], ...] = field(default=())

    @property
    def store(self) -> Store:
        """The emulator's store."""
        return self.emulator.store

    @property
    def settings(self) -> EmulatorSettings:
        """The emulator's settings."""
        return self.emulator.settings

    @property
    def ws(self) -> str:
        """The workspace (routes with auth always have one)."""
        return self.workspace or self.settings.workspace_id

    def json(self) -> Any:
        """The parsed JSON body (the pipeline parsed it for JSON routes).

        Raises:
            ApiError: 400 when the body is empty or not JSON.
        """
        if self.body is _NO_BODY:
            self.body = self.emulator.parse_json(self.request, self.route, self.request_id)
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
        limiter = self.emulator.limiter
        decision = limiter.acquire_many(self.ws, ((pool, weight), *more))
        headers = limiter.headers(decision)
        if not self.rate_headers or decision.remaining < int(
            dict(self.rate_headers)["x-ratelimit-remaining"]
        ):
            self.rate_headers = headers
        if not decision.allowed:
            raise ApiError(self.route.envelope.rate_limited(self.request_id, headers))

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
            self.route.envelope.error(
                status, message, self.request_id, type=type, attribute=attribute
            )
        )

    def ok(self, document: Any, status: int = 200) -> Response:
        """A JSON success answer."""
        return json_response(status, document)


class Emulator:
    """A local MoEngage.

    Args:
        settings: Configuration; defaults to the test workspace and keys.
        endpoint_modules: Modules with ``register(router, emulator)`` adding routes; defaults
            to every family in ``moengage_pipelines.emulator.endpoints``.

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
        endpoint_modules: Iterable[Any] | None = None,
    ) -> None:
        # Imported here: endpoint modules may import this module.
        from moengage_pipelines.emulator.endpoints import ENDPOINT_MODULES

        self.settings = settings or EmulatorSettings()
        self.store = Store(self.settings.database)
        self.limiter = RateLimiter(self.settings, self.settings.clock)
        self.faults = FaultInjector(self.settings.faults, self.settings.fault_seed)
        self.counters = RequestCounters()
        self.accounts = AccountStates(
            self.settings.workspaces, self.settings.account_states, self.settings.workspace_id
        )
        self.router = Router()
        for module in ENDPOINT_MODULES if endpoint_modules is None else endpoint_modules:
            module.register(self.router, self)
        self.inspect = Inspector(self)
        self.asgi_app = AsgiApp(self)

    def __repr__(self) -> str:
        settings = self.settings
        return f"Emulator(workspace_id={settings.workspace_id!r}, database={settings.database!r})"

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database."""
        self.store.close()

    def now(self) -> float:
        """Real time (from the settings' clock)."""
        return self.settings.clock()

    def transport(self) -> EmulatorTransport:
        """A synchronous ``httpx`` transport answering in-process with this emulator."""
        return EmulatorTransport(self)

    def async_transport(self) -> AsyncEmulatorTransport:
        """An asynchronous ``httpx`` transport answering in-process with this emulator."""
        return AsyncEmulatorTransport(self)

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
            envelope = (
                found.route.envelope
                if isinstance(found, RouteMatch)
                else envelope_for_path(request.path)
            )
            if request.header_bytes > self.settings.max_header_bytes:
                response = envelope.header_too_large(request_id)
            elif found is None:
                response = envelope.not_found(request_id)
            else:
                response = envelope.method_not_allowed(request_id, found)
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
            response = route.envelope.server_error(request_id)
        if route.counted:
            outcome = None if response.delivery is Delivery.NORMAL else response.delivery.value
            status = response.status if response.delivery is Delivery.NORMAL else None
            self.counters.record(route.endpoint, status, outcome=outcome)
        return response

    def _run(
        self, route: Route, params: dict[str, str], request: Request, request_id: str
    ) -> Response:
        envelope = route.envelope
        host_dc = auth.check_host(request, request_id, route)
        workspace = None
        if route.auth is not None:
            workspace = auth.authenticate(
                request, route, self.settings, request_id, host_dc, self.accounts.get
            )
            auth.check_workspace_param(request, route, params, workspace, request_id, self.settings)
            auth.check_account(route, self.accounts.get(workspace), request_id)
        call = Call(self, request, route, params, workspace, request_id, self.now())
        decision = self.faults.before(route.endpoint) if route.counted else None
        if decision is not None:
            if decision.error_status is not None:
                return self._delayed(
                    envelope.server_error(request_id, decision.error_status), decision.delay, True
                )
            if decision.timeout is not None:
                return Response(
                    504, delivery=Delivery.TIMEOUT, hang=decision.timeout, delay=decision.delay
                )
            if decision.rate_limited:
                return self._delayed(
                    envelope.rate_limited(request_id, self._injected_429_headers(route)),
                    decision.delay,
                    True,
                )
        if not route.weighted:
            for pool in route.pools:
                call.spend(pool)
        if route.json_body:
            self._check_body(request, route, request_id)
            call.body = self.parse_json(request, route, request_id)
        try:
            response = route.handler(call)
        except ApiError as error:
            response = error.response
            self._add_headers(response, call.rate_headers)
            return self._delayed(response, decision.delay if decision else 0.0)
        self._add_headers(response, call.rate_headers)
        if (
            200 <= response.status < 300
            and route.counted
            and self.faults.reset_after_apply(route.endpoint)
        ):
            response.delivery = Delivery.RESET
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

    def _check_body(self, request: Request, route: Route, request_id: str) -> None:
        envelope = route.envelope
        content_type = request.header("content-type")
        if content_type is None or not content_type.strip():
            raise ApiError(envelope.content_type_missing(request_id))
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            raise ApiError(envelope.content_type_unsupported(request_id))
        if route.max_bytes is not None and len(request.body) > route.max_bytes:
            raise ApiError(envelope.payload_too_large(request_id, _size_text(route.max_bytes)))

    @staticmethod
    def parse_json(request: Request, route: Route, request_id: str) -> Any:
        """Parse a request body as JSON, or raise the envelope's 400."""
        if not request.body.strip():
            raise ApiError(route.envelope.body_not_json(request_id))
        try:
            return orjson.loads(request.body)
        except orjson.JSONDecodeError:
            raise ApiError(route.envelope.malformed_json(request_id)) from None
