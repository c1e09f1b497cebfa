"""``MoEngageClient``: one connection pool, the right key per API family, retries, rate budget.

Every request goes through :meth:`MoEngageClient.request`, which

1. spends the request's cost from the shared :class:`RateBudget` (waiting if needed),
2. sends it with Basic auth ``workspace_id:key`` for the endpoint's key family and the
   ``MOE-APPKEY`` header where MoEngage requires it,
3. turns error statuses, and 200s whose body says ``"status": "fail"``, into typed errors
   carrying MoEngage's own message, and
4. retries 429s (as long as the server says), 5xx and transport failures.

The client is safe to share between worker threads. API keys never appear in its repr, its
log lines or its exceptions.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import uuid
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from moengage_pipelines.api.counters import ClientStats, RequestTrace, StatsCounter
from moengage_pipelines.api.envelopes import body_reports_failure, error_message, parse_json
from moengage_pipelines.api.exceptions import MoEngageConnectionError
from moengage_pipelines.api.ratebudget import (
    BUDGET_STORE_VARIABLE,
    CAMPAIGN_STATS,
    CAMPAIGNS,
    CATALOG,
    TRANSITION_EVENTS,
    TRANSITION_USERS,
    MemoryBudgetStore,
    RateBudget,
    budget_for_workspace,
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
from moengage_pipelines.errors import (
    AuthError,
    MoEngageHTTPError,
    PayloadTooLargeError,
    RateLimitedError,
    RequestRejectedError,
    ServerError,
)

__all__ = ["MoEngageClient", "default_cost", "needs_appkey"]

logger = logging.getLogger(__name__)

TRANSITION_PATH = "/v1/transition/{workspace_id}"
CAMPAIGN_SEARCH_PATH = "/core-services/v1/campaigns/search"
CAMPAIGN_STATS_PATH = "/core-services/v1/campaign-stats"
REPORT_PATH = "/campaign_reports/rest_api/{workspace_id}/{filename}"
CATALOG_PATH = "/v1/catalog"

# Path prefixes of the Data-key families that still require MOE-APPKEY (segments, imports).
_APPKEY_DATA_PREFIXES = ("/v2/custom-segments", "/v3/custom-segments", "/v1.0/data/fileimports")


def needs_appkey(path: str, key_family: KeyFamily | None) -> bool:
    """Whether MoEngage requires the ``MOE-APPKEY`` header on this request.

    Catalog, campaign-stats and campaigns (all on the campaign key), segments and file imports
    require it; the core Data APIs (bulk import, users, events, merge, delete) do not.
    """
    if key_family == "campaign":
        return True
    return key_family == "data" and path.startswith(_APPKEY_DATA_PREFIXES)


def default_cost(path: str) -> dict[str, int]:
    """The rate-budget cost of one request to ``path`` when the caller gives none.

    Bulk import is weighted by its users and events, which only the caller knows, so it has no
    default here; :meth:`MoEngageClient.post_transition` passes them.
    """
    if path.startswith(CATALOG_PATH):
        return {CATALOG: 1}
    if path.startswith(CAMPAIGN_STATS_PATH):
        return {CAMPAIGN_STATS: 1}
    if path.startswith("/core-services/v1/campaigns"):
        return {CAMPAIGNS: 1}
    return {}


class MoEngageClient:
    """HTTP client for one MoEngage workspace.

    Args:
        settings: Workspace id, keys and data centre (or base URL).
        transport: An ``httpx`` transport to use instead of the network, e.g. the emulator's
            in-process ``emulator.transport()``.
        budget: The shared rate budget. Defaults to this workspace's budget in the store named
            by ``MOENGAGE_RATE_BUDGET_STORE`` (``file``, the machine-wide SQLite file, when
            unset), or to an in-process budget when ``transport`` is given (an in-process
            transport cannot be shared by other processes). Use ``RateBudget.unlimited()`` to
            turn pacing off.
        retry: Retry settings (a :class:`RetryConfig` or a :class:`RetryPolicy`).
        timeout: Seconds for connect, read, write and pool waits.
        max_connections: Size of the connection pool (match it to the worker threads).
    """

    def __init__(
        self,
        settings: MoEngageSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        budget: RateBudget | None = None,
        retry: RetryConfig | RetryPolicy | None = None,
        timeout: float = 30.0,
        max_connections: int = 8,
    ) -> None:
        self.settings = settings
        namespace = namespace_for(settings)
        self._owns_budget = budget is None
        if budget is None and transport is not None:
            budget = RateBudget(MemoryBudgetStore(), namespace=namespace)
        elif budget is None:
            store = os.environ.get(BUDGET_STORE_VARIABLE) or "file"
            budget = budget_for_workspace(settings, store=store)
        self.budget = budget
        if retry is None:
            retry = RetryConfig(time_scale=budget.time_scale)
        self.retry = retry if isinstance(retry, RetryPolicy) else RetryPolicy(retry)
        self._stats = StatsCounter()
        self._http = httpx.Client(
            base_url=settings.api_base,
            transport=transport,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "application/json", "User-Agent": "moengage-pipelines"},
        )

    def __repr__(self) -> str:
        return (
            f"MoEngageClient(workspace_id={self.settings.workspace_id!r}, "
            f"base_url={self.settings.api_base_redacted!r})"
        )

    def __enter__(self) -> MoEngageClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (and the budget's store if the client created it)."""
        self._http.close()
        if self._owns_budget:
            self.budget.close()

    @property
    def stats(self) -> ClientStats:
        """Counters since the client was created (requests, retries, http_429, ...)."""
        return self._stats.snapshot()

    # ------------------------------------------------------------------ core

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
            cost: Rate-budget units per bucket; defaults by path (see :func:`default_cost`).
            trace: Filled in with this request's attempts, retries and waits.

        Returns:
            The successful response (2xx).

        Raises:
            RequestRejectedError: 400/404/409/415/422..., or a 2xx whose body says it failed.
            AuthError: 401/403.
            PayloadTooLargeError: 413.
            RateLimitedError: 429 after the retry budget.
            ServerError: 5xx after the retry budget.
            MoEngageConnectionError: Transport failures after the retry budget.
            RateBudgetError: The cost can never fit the budget's windows.
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

        def attempt() -> httpx.Response:
            # The budget holds the spend until the answer arrives (see RateBudget.hold).
            with self.budget.hold(spend) as waited:
                trace.attempts += 1
                trace.budget_wait_seconds += waited
                self._stats.add(requests=1, bytes_sent=size, budget_wait_seconds=waited)
                try:
                    response = self._http.request(
                        method, path, content=content, params=params, headers=send_headers
                    )
                except httpx.TransportError:
                    self._stats.add(transport_errors=1)
                    raise
            trace.status = response.status_code
            self._stats.add(responses=1)
            logger.debug("%s %s -> %s", method, path, response.status_code)
            return self._check(response, path, spend, trace)

        def on_retry(event: RetryEvent) -> None:
            trace.retries += 1
            trace.retry_wait_seconds += event.wait
            trace.ambiguous_retries += int(event.ambiguous)
            self._stats.add(
                retries=1,
                ambiguous_retries=int(event.ambiguous),
                retry_wait_seconds=event.wait,
            )
            logger.info(
                "retrying %s %s in %.2fs after attempt %d failed: %s%s",
                method,
                path,
                event.wait,
                event.attempt,
                self._describe(event.error),
                " (may have been applied; a duplicate is possible)" if event.ambiguous else "",
            )

        try:
            return self.retry.run(attempt, on_retry=on_retry)
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
    ) -> httpx.Response:
        status = response.status_code
        if status < 300:
            document = parse_json(response.content)
            if body_reports_failure(document):
                raise self._error(response, path, RequestRejectedError)
            return response
        if status == 429:
            trace.http_429 += 1
            self._stats.add(http_429=1)
            retry_after = server_wait(response.headers, now=self.retry.config.clock())
            if retry_after:
                # The server is the authority: everyone sharing the budget backs off.
                self.budget.pause(spend, retry_after)
            raise self._error(response, path, RateLimitedError, retry_after=retry_after)
        if status >= 500:
            self._stats.add(http_5xx=1)
            raise self._error(response, path, ServerError)
        if status in (401, 403):
            raise self._error(response, path, AuthError)
        if status == 413:
            raise self._error(response, path, PayloadTooLargeError)
        raise self._error(response, path, RequestRejectedError)

    def _error(
        self,
        response: httpx.Response,
        path: str,
        kind: type[MoEngageHTTPError],
        **extra: Any,
    ) -> MoEngageHTTPError:
        message = self._redact(error_message(response.content, reason=response.reason_phrase))
        body = self._redact(response.content[:2000].decode("utf-8", errors="replace"))
        return kind(response.status_code, message, endpoint=path, body=body, **extra)

    def _redact(self, text: str) -> str:
        # Read the keys from their SecretStr each time rather than keep plain copies around.
        for secret in (self.settings.data_api_key, self.settings.campaign_api_key):
            value = secret.get_secret_value() if secret is not None else ""
            if value:
                text = text.replace(value, "***")
        return text

    def _describe(self, error: BaseException) -> str:
        if isinstance(error, MoEngageHTTPError):
            return f"{error.status} {error.message}"
        detail = self._redact(str(error)) or "no detail"
        return f"{type(error).__name__}: {detail}"

    def _json(self, response: httpx.Response) -> Any:
        document = parse_json(response.content)
        return {} if document is None else document

    # ------------------------------------------------------------------ data APIs

    def post_transition(
        self, body: bytes, *, users: int, events: int, trace: RequestTrace | None = None
    ) -> dict[str, Any]:
        """Send one bulk-import body (``POST /v1/transition/{workspace_id}``).

        Args:
            body: The exact JSON bytes ``{"type": "transition", "elements": [...]}``.
            users: Customer elements in it (spent from the ``transition_users`` budget).
            events: Event actions in it (spent from the ``transition_events`` budget).
            trace: Filled in with attempts, retries and waits.

        Returns:
            MoEngage's answer, e.g. ``{"status": "success", "message": "..."}``.
        """
        path = TRANSITION_PATH.format(workspace_id=quote(self.settings.workspace_id, safe=""))
        response = self.request(
            "POST",
            path,
            key_family="data",
            content=body,
            cost={TRANSITION_USERS: users, TRANSITION_EVENTS: events},
            trace=trace,
        )
        return self._json(response)

    # ------------------------------------------------------------------ campaigns, stats, reports

    def search_campaigns(self, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One page of ``POST /core-services/v1/campaigns/search``.

        A ``request_id`` is added when the payload has none.

        Returns:
            The campaigns of the page (MoEngage answers a bare array).
        """
        response = self.request(
            "POST", CAMPAIGN_SEARCH_PATH, key_family="campaign", json=_with_request_id(payload)
        )
        document = self._json(response)
        if isinstance(document, dict):
            # Tolerate an envelope around the array (the v5 API uses one).
            for key in ("data", "campaigns", "results"):
                if isinstance(document.get(key), list):
                    return list(document[key])
            return []
        return list(document)

    def campaign_stats(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """``POST /core-services/v1/campaign-stats`` (a ``request_id`` is added when missing)."""
        response = self.request(
            "POST", CAMPAIGN_STATS_PATH, key_family="campaign", json=_with_request_id(payload)
        )
        return self._json(response)

    def report_signature(self, filename: str) -> str:
        """``hex(sha256(workspace_id|filename|campaign_key))``, the report download signature."""
        secret = self.settings.key("campaign")
        text = f"{self.settings.workspace_id}|{filename}|{secret}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def download_report(self, filename: str) -> bytes:
        """Download a generated campaign report file (a ZIP of CSVs).

        Args:
            filename: ``<Report_name>_<YYYYMMDD>.zip`` as configured in the dashboard.

        Raises:
            ValueError: If the filename contains a path separator.
        """
        if not filename or "/" in filename or "\\" in filename or filename in {".", ".."}:
            raise ValueError(f"report filename must be a plain file name, got {filename!r}")
        path = REPORT_PATH.format(
            workspace_id=quote(self.settings.workspace_id, safe=""),
            filename=quote(filename, safe=""),
        )
        response = self.request(
            "GET",
            path,
            key_family=None,
            headers={"Signature": self.report_signature(filename)},
        )
        return response.content

    # ------------------------------------------------------------------ catalog

    def _catalog_path(self, catalog_id: str, suffix: str = "") -> str:
        if not catalog_id:
            raise ValueError("catalog_id must not be empty")
        return f"{CATALOG_PATH}/{quote(catalog_id, safe='')}{suffix}"

    def create_catalog(
        self,
        name: str,
        *,
        price_currency: str,
        attributes: Sequence[Mapping[str, str]] = (),
    ) -> str:
        """Create a catalog (``POST /v1/catalog``) and return its ``catalog_id``.

        Args:
            name: Unique catalog name.
            price_currency: ISO-4217 code, e.g. ``"USD"``.
            attributes: ``{"name", "type"}`` pairs; ``id``, ``title``, ``link`` and
                ``image_link`` (strings) are mandatory.
        """
        payload = {"name": name, "price_currency": price_currency, "attributes": list(attributes)}
        response = self.request("POST", CATALOG_PATH, key_family="campaign", json=payload)
        document = self._json(response)
        return str(document.get("catalog_id", ""))

    def add_catalog_attributes(
        self, catalog_id: str, attributes: Sequence[Mapping[str, str]]
    ) -> dict[str, Any]:
        """Add attributes (``PATCH /v1/catalog/{id}/attributes``).

        Attributes that already exist are ignored and listed under
        ``duplicate-item-attributes``.
        """
        response = self.request(
            "PATCH",
            self._catalog_path(catalog_id, "/attributes"),
            key_family="campaign",
            json={"attributes": list(attributes)},
        )
        return self._json(response)

    def add_catalog_items(
        self,
        catalog_id: str,
        items: Sequence[Mapping[str, Any]] | bytes,
        *,
        trace: RequestTrace | None = None,
    ) -> dict[str, Any]:
        """Add items (``POST /v1/catalog/{id}/items``), at most 50.

        Args:
            catalog_id: The catalog.
            items: Item documents, or the exact body bytes ``{"items": [...]}``.
            trace: Filled in with attempts, retries and waits.

        Returns:
            ``{"message": {"valid": {"count"}, "invalid": {"count", "details"}}}``: the
            request succeeds even when some items are invalid.
        """
        return self._catalog_items("POST", catalog_id, items, trace)

    def update_catalog_items(
        self,
        catalog_id: str,
        items: Sequence[Mapping[str, Any]] | bytes,
        *,
        trace: RequestTrace | None = None,
    ) -> dict[str, Any]:
        """Update items (``PATCH /v1/catalog/{id}/items``) given as ``{"id", "attributes"}``."""
        return self._catalog_items("PATCH", catalog_id, items, trace)

    def _catalog_items(
        self,
        method: str,
        catalog_id: str,
        items: Sequence[Mapping[str, Any]] | bytes,
        trace: RequestTrace | None,
    ) -> dict[str, Any]:
        content = items if isinstance(items, bytes) else orjson.dumps({"items": list(items)})
        response = self.request(
            method,
            self._catalog_path(catalog_id, "/items"),
            key_family="campaign",
            content=content,
            trace=trace,
        )
        return self._json(response)

    def search_catalog_items(
        self, catalog_id: str, item_ids: Sequence[str]
    ) -> list[dict[str, Any]]:
        """Fetch items by id (``POST /v1/catalog/{id}/items/search``), 1 to 50 ids."""
        response = self.request(
            "POST",
            self._catalog_path(catalog_id, "/items/search"),
            key_family="campaign",
            json={"items": list(item_ids)},
        )
        document = self._json(response)
        return list(document.get("items", [])) if isinstance(document, dict) else []

    def delete_catalog_items(self, catalog_id: str, item_ids: Sequence[str]) -> dict[str, Any]:
        """Delete items by id (``POST /v1/catalog/{id}/items/bulk-delete``), at most 50."""
        response = self.request(
            "POST",
            self._catalog_path(catalog_id, "/items/bulk-delete"),
            key_family="campaign",
            json={"items": list(item_ids)},
        )
        return self._json(response)


def _with_request_id(payload: Mapping[str, Any]) -> dict[str, Any]:
    document = dict(payload)
    document.setdefault("request_id", uuid.uuid4().hex)
    return document
