"""The request machinery under every ``MoEngageClient`` call.

:meth:`RequestCore.request`

1. fails at once while the host is unreachable (:class:`CircuitBreaker`),
2. spends the request's cost from the shared :class:`RateBudget` (waiting if needed),
3. sends it with Basic auth ``workspace_id:key`` for the endpoint's key family and the
   ``MOE-APPKEY`` header where MoEngage requires it,
4. turns error statuses, 200s whose body says ``"status": "fail"`` and 200s that are not
   MoEngage's JSON into typed errors carrying MoEngage's own message (:mod:`.answers`),
   shrinking the budget when MoEngage answers 429 to a request it admitted, and
5. retries 429s (until the rate-limited deadline), 5xx and transport failures.

Every server text kept in an error or written to the log is scrubbed of the keys first, in
whatever form the server may echo them (raw, encoded, inside an ``Authorization`` header).
"""

from __future__ import annotations

import base64
import copy
import logging
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx
import orjson

from moengage_pipelines.api.answers import (
    Expected,
    error_of,
    refusal_of,
    reports_failure,
    unexpected_answer,
)
from moengage_pipelines.api.circuit import CircuitBreaker
from moengage_pipelines.api.counters import ClientStats, RequestTrace, StatsCounter
from moengage_pipelines.api.envelopes import parse_json
from moengage_pipelines.api.exceptions import MoEngageConnectionError, MoEngageUnreachableError
from moengage_pipelines.api.paths import default_cost, needs_appkey
from moengage_pipelines.api.ratebudget import (
    MemoryBudgetStore,
    RateBudget,
    budget_from_environment,
    namespace_for,
)
from moengage_pipelines.api.retries import (
    RetryConfig,
    RetryEvent,
    RetryPolicy,
    is_ambiguous,
    server_wait,
)
from moengage_pipelines.config import KeyFamily, MoEngageSettings
from moengage_pipelines.errors import MoEngageHTTPError, RateLimitedError
from moengage_pipelines.redaction import scrub_secrets, url_secrets

__all__ = ["RequestCore"]

logger = logging.getLogger(__name__)

# Failures that happen before a connection exists: nothing of the request was sent.
_NO_CONNECTION = (httpx.ConnectError, httpx.ConnectTimeout)


class RequestCore:
    """Auth, rate budget, retries and typed errors for one MoEngage workspace.

    The endpoint groups build on it and :class:`~moengage_pipelines.api.client.MoEngageClient`
    combines them; its arguments are documented there. Safe to share between threads.
    """

    def __init__(
        self,
        settings: MoEngageSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        retry: RetryConfig | RetryPolicy | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 10.0,
        circuit: CircuitBreaker | None = None,
        max_connections: int = 8,
    ) -> None:
        self.settings = settings
        namespace = namespace_for(settings)
        self._owns_budget = budget is None
        if budget is None and transport is not None:
            budget = RateBudget(MemoryBudgetStore(), namespace=namespace)
        elif budget is None:
            budget = budget_from_environment(settings)
        self.budget = budget
        self.circuit = circuit if circuit is not None else CircuitBreaker()
        if retry is None:
            retry = RetryConfig(time_scale=budget.time_scale)
        self.retry = _policy(retry)
        self._stats = StatsCounter()
        self._owns_pool = True
        self._http = httpx.Client(
            base_url=settings.api_base,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "application/json", "User-Agent": "moengage-pipelines"},
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(workspace_id={self.settings.workspace_id!r}, "
            f"base_url={self.settings.api_base_redacted!r})"
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (and the budget's store if the client created it).

        A view made by :meth:`with_retry` closes nothing: the client it came from owns both.
        """
        if self._owns_pool:
            self._http.close()
        if self._owns_budget:
            self.budget.close()

    @property
    def stats(self) -> ClientStats:
        """Counters since the client was created (requests, retries, http_429, ...)."""
        return self._stats.snapshot()

    def with_retry(self, retry: RetryConfig | RetryPolicy) -> Self:
        """Return a view of this client that retries under another policy.

        The view sends through the same connection pool, spends from the same rate budget and
        adds to the same counters; only its retries differ. For example
        ``client.with_retry(dataclasses.replace(client.retry.config, retry_ambiguous=False))``
        never repeats a request MoEngage may already have applied.

        Args:
            retry: The view's retry settings (a :class:`RetryConfig` or a
                :class:`RetryPolicy`).

        Returns:
            The view. Closing it leaves the pool and budget open; close this client instead.
        """
        # A shallow copy shares the pool, budget and counters by reference.
        view = copy.copy(self)
        view.retry = _policy(retry)
        view._owns_pool = False
        view._owns_budget = False
        return view

    def request(
        self,
        method: str,
        path: str,
        *,
        key_family: KeyFamily | None,
        json: Any = None,
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        cost: Mapping[str, int] | None = None,
        trace: RequestTrace | None = None,
        on_dispatch: Callable[[], None] | None = None,
        expected: Expected | None = None,
    ) -> httpx.Response:
        """Send one request with auth, budget, retries and typed errors.

        Args:
            method: HTTP method.
            path: Path on the API host, starting with ``/``.
            key_family: ``"data"`` or ``"campaign"`` for Basic auth with that key; None for
                endpoints that authenticate otherwise (report downloads).
            json: A document to send as JSON (serialised compactly).
            content: Exact body bytes (wins over ``json``).
            params: Query parameters.
            headers: Extra headers.
            cost: Rate-budget units per bucket; defaults by path (see
                :func:`~moengage_pipelines.api.paths.default_cost`).
            trace: Filled in with this request's attempts, retries and waits.
            on_dispatch: Called before each attempt goes out, once the rate budget admitted
                it: the moment the request may reach MoEngage (a caller recording what is in
                flight records it then, not while it still waits for the budget).
            expected: What a 2xx body must be (``"object"``, ``"json"``); anything else is
                an :class:`UnexpectedAnswerError`. None accepts any body.

        Returns:
            The successful response (2xx).

        Raises:
            RequestRejectedError: 400/404/409/415/422..., or a 2xx whose body says it failed;
                ``client_side`` when the request as built is refused.
            AuthError: 401/403.
            PayloadTooLargeError: 413.
            RateLimitedError: 429s past the rate-limited deadline.
            ServerError: 5xx after the retry budget.
            UnexpectedAnswerError: A 2xx that is not ``expected``, after the retry budget.
            MoEngageUnreachableError: The host refused connections too often in a row.
            MoEngageConnectionError: Other transport failures after the retry budget.
            RateBudgetError: The cost can never fit the budget's windows.
            RateBudgetStoreError: The budget's store failed.
            ConfigError: The key family's key is not configured.
        """
        if content is None and json is not None:
            content = orjson.dumps(json)
        send_headers = {"Content-Type": "application/json"}
        if key_family is not None:
            send_headers["Authorization"] = self._authorization(key_family)
        if needs_appkey(path, key_family):
            send_headers["MOE-APPKEY"] = self.settings.workspace_id
        if headers:
            send_headers.update(headers)
        spend = dict(default_cost(path) if cost is None else cost)
        trace = trace if trace is not None else RequestTrace()
        size = len(content) if content else 0
        host = self.settings.api_base_redacted
        budget_waits: list[float] = []

        def attempt() -> httpx.Response:
            self.circuit.admit(host=host, endpoint=path)
            # The budget holds the spend until the answer arrives (see RateBudget.hold).
            with self.budget.hold(spend) as waited:
                admitted_at = self.budget.now()
                budget_waits.append(waited)
                trace.attempts += 1
                trace.budget_wait_seconds += waited
                self._stats.add(requests=1, bytes_sent=size, budget_wait_seconds=waited)
                if on_dispatch is not None:
                    on_dispatch()
                try:
                    response = self._http.request(
                        method, path, content=content, params=params, headers=send_headers
                    )
                except _NO_CONNECTION as exc:
                    self._stats.add(transport_errors=1)
                    if self.circuit.connect_failed(self._describe(exc), host=host):
                        raise self.circuit.error(host=host, endpoint=path) from None
                    raise
                except httpx.TransportError:
                    self._stats.add(transport_errors=1)
                    self.circuit.connected()
                    raise
            self.circuit.connected()
            trace.status = response.status_code
            self._stats.add(responses=1)
            logger.debug("%s %s -> %s", method, path, response.status_code)
            return self._check(response, path, spend, trace, admitted_at, expected)

        def on_retry(event: RetryEvent) -> None:
            trace.retries += 1
            trace.retry_wait_seconds += event.wait
            trace.ambiguous_retries += int(event.ambiguous)
            self._stats.add(
                retries=1,
                ambiguous_retries=int(event.ambiguous),
                retry_wait_seconds=event.wait,
            )
            if event.rate_limited_for is not None:
                note = f" (answered 429 for {event.rate_limited_for:.0f}s so far)"
            elif event.ambiguous:
                note = " (may have been applied; a duplicate is possible)"
            else:
                note = ""
            logger.info(
                "retrying %s %s in %.2fs after attempt %d failed: %s%s",
                method,
                path,
                event.wait,
                event.attempt,
                self._describe(event.error),
                note,
            )

        try:
            return self.retry.run(attempt, on_retry=on_retry, paced=lambda: sum(budget_waits))
        except MoEngageUnreachableError:
            self._stats.add(failures=1, unreachable=1)
            raise
        except httpx.TransportError as exc:
            self._stats.add(failures=1)
            raise MoEngageConnectionError(
                self._describe(exc), endpoint=path, ambiguous=is_ambiguous(exc)
            ) from None
        except MoEngageHTTPError:
            self._stats.add(failures=1)
            raise

    def _authorization(self, family: KeyFamily) -> str:
        # Built per request (microseconds) so no encoded key lingers on the client object.
        token = f"{self.settings.workspace_id}:{self.settings.key(family)}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")

    def _check(
        self,
        response: httpx.Response,
        path: str,
        spend: Mapping[str, int],
        trace: RequestTrace,
        admitted_at: float,
        expected: Expected | None,
    ) -> httpx.Response:
        status = response.status_code
        if status < 300:
            unexpected = unexpected_answer(response, path, expected, self._redact)
            if unexpected is not None:
                self._stats.add(unexpected_answers=1)
                raise unexpected
            if reports_failure(response):
                raise refusal_of(response, path, self._redact)
            return response
        if status == 429:
            trace.http_429 += 1
            self._stats.add(http_429=1)
            config = self.retry.config
            retry_after = server_wait(response.headers, now=config.clock())
            # The server is the authority: everyone sharing the budget backs off, for one
            # slice of the wait at most, as the retries do (then MoEngage is asked again).
            paused_for = min(retry_after, config.max_rate_limit_wait) if retry_after else None
            if paused_for:
                self.budget.pause(spend, paused_for)
            # The budget admitted it: MoEngage's budget is smaller than ours, so shrink ours.
            if self.budget.throttled(spend, admitted_at=admitted_at, paused_for=paused_for):
                self._stats.add(budget_shrinks=1)
            raise error_of(response, path, RateLimitedError, self._redact, retry_after=retry_after)
        if status >= 500:
            self._stats.add(http_5xx=1)
        raise refusal_of(response, path, self._redact)

    def _redact(self, text: str) -> str:
        # Read the keys from their SecretStr each time rather than keep plain copies around.
        settings = self.settings
        keys = [
            secret.get_secret_value()
            for secret in (settings.data_api_key, settings.campaign_api_key)
            if secret is not None
        ]
        return scrub_secrets(
            text,
            [*keys, *url_secrets(settings.api_base)],
            basic_auth_user=settings.workspace_id,
        )

    def _describe(self, error: BaseException) -> str:
        if isinstance(error, MoEngageHTTPError):
            return f"{error.status} {error.message}"
        detail = self._redact(str(error)) or "no detail"
        return f"{type(error).__name__}: {detail}"

    def _json(self, response: httpx.Response) -> Any:
        document = parse_json(response.content)
        return {} if document is None else document


def _policy(retry: RetryConfig | RetryPolicy) -> RetryPolicy:
    return retry if isinstance(retry, RetryPolicy) else RetryPolicy(retry)
