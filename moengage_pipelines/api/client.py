"""``MoEngageClient``: one connection pool, the right key per API family, retries, rate budget.

Every call goes through :meth:`~moengage_pipelines.api.request_core.RequestCore.request`
(auth, ``MOE-APPKEY``, budget, retries, typed errors); the endpoint methods come in groups,
one module each: Data API (:mod:`.data_endpoints`), catalogs (:mod:`.catalog_endpoints`),
campaigns, stats and reports (:mod:`.campaign_endpoints`).

The client is safe to share between worker threads. API keys never appear in its repr, its
log lines or its exceptions.
"""

from __future__ import annotations

from moengage_pipelines.api.campaign_endpoints import CampaignEndpoints
from moengage_pipelines.api.catalog_endpoints import CatalogEndpoints
from moengage_pipelines.api.data_endpoints import DataEndpoints

__all__ = ["MoEngageClient"]


class MoEngageClient(DataEndpoints, CatalogEndpoints, CampaignEndpoints):
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
        retry: Retry settings (a :class:`RetryConfig` or a :class:`RetryPolicy`); see
            :meth:`with_retry` for a view of the client under other settings.
        timeout: Seconds for read, write and pool waits.
        connect_timeout: Seconds to wait for a connection; shorter than ``timeout``, since an
            unreachable host is told by connections that do not come.
        circuit: Counts connection failures in a row across the client's threads; past its
            threshold (4 by default) requests fail at once with
            :class:`~moengage_pipelines.api.exceptions.MoEngageUnreachableError`.
        max_connections: Size of the connection pool (match it to the worker threads).

    Raises:
        ConfigError: When the default budget's store (``MOENGAGE_RATE_BUDGET_STORE``) is
            unknown or does not work: checked here, before any request.
    """
