"""What the emulator received, for tests: the Python side of the inspection API.

The same views are served over HTTP under ``/_emulator/`` (see
``moengage_pipelines.emulator.endpoints.inspection_views``).
"""

from __future__ import annotations

from typing import Any

from moengage_pipelines.emulator.campaign_catalog import api_triggered, catalogue
from moengage_pipelines.emulator.catalog_store import CatalogStore
from moengage_pipelines.emulator.report_definitions import ReportBook
from moengage_pipelines.emulator.state import EmulatorState

__all__ = ["Inspector"]


class Inspector:
    """Read (and reset) an emulator's state.

    Every method takes an optional workspace, defaulting to the emulator's main one.
    """

    def __init__(self, state: EmulatorState) -> None:
        self._state = state

    def _ws(self, workspace: str | None) -> str:
        return workspace or self._state.settings.workspace_id

    def users(self, workspace: str | None = None) -> dict[str, dict[str, Any]]:
        """Accepted users: ``customer_id`` to merged attributes."""
        return {
            cid: user.attributes
            for cid, user in self._state.store.users(self._ws(workspace)).items()
        }

    def user(self, customer_id: str, workspace: str | None = None) -> dict[str, Any] | None:
        """One user's full record (MoEngage id, attribute types, platforms, devices), or None."""
        ws = self._ws(workspace)
        found = self._state.store.find_users(ws, "customer_id", [customer_id]).get(customer_id)
        if found is None:
            return None
        record = found.to_dict()
        record["blocked"] = customer_id in self._state.store.blocked_users(ws)
        record["devices"] = {
            device_id: device["attributes"]
            for device_id, device in self._state.store.devices(ws).items()
            if device["customer_id"] == customer_id
        }
        return record

    def set_user_attributes(
        self, customer_id: str, attributes: dict[str, Any], workspace: str | None = None
    ) -> dict[str, Any]:
        """Change what MoEngage holds for a user, as if someone edited it in the dashboard.

        Lets a test make MoEngage's copy differ from what was pushed. A None value removes
        the attribute; types follow the values as on ingest.

        Returns:
            The user's attributes afterwards.

        Raises:
            KeyError: No such user.
        """
        ws = self._ws(workspace)
        changed = self._state.store.set_user_attributes(
            ws, customer_id, dict(attributes), now=self._state.now()
        )
        if changed is None:
            raise KeyError(f"no user {customer_id!r} in workspace {ws!r}")
        return changed.attributes

    def events(
        self,
        workspace: str | None = None,
        *,
        customer_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Accepted events, one per action, in arrival order.

        Each has ``customer_id``, ``action``, ``attributes``, ``platform``, ``time`` (epoch
        seconds), ``day`` (UTC), ``device_id``, the other action fields as sent, and the
        ``endpoint`` and ``request_id`` that brought it.
        """
        return self._state.store.events(
            self._ws(workspace), customer_id=customer_id, limit=limit, offset=offset
        )

    def devices(self, workspace: str | None = None) -> dict[str, dict[str, Any]]:
        """Accepted devices: device id to ``{"customer_id", "attributes"}``."""
        return self._state.store.devices(self._ws(workspace))

    def dropped(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """Everything answered 200 but not processed.

        Each entry has ``reason``, ``kind`` (element, action, attribute or pair), ``element``,
        ``index`` in the request, ``customer_id``, ``endpoint`` and ``request_id``.
        """
        return self._state.store.dropped(self._ws(workspace))

    def merges(self, workspace: str | None = None) -> list[dict[str, str]]:
        """Applied merges."""
        return self._state.store.merges(self._ws(workspace))

    def deletions(self, workspace: str | None = None) -> list[dict[str, str]]:
        """Applied deletions."""
        return self._state.store.deletions(self._ws(workspace))

    def blocked_users(self, workspace: str | None = None) -> list[str]:
        """Users blocked for a 1,001st device (their later data is dropped), sorted."""
        return sorted(self._state.store.blocked_users(self._ws(workspace)))

    def account_states(self) -> dict[str, str]:
        """Every workspace with its account state (``active`` unless set).

        Change them with ``emulator.accounts.set(state, workspace)``.
        """
        return dict(self._state.accounts.describe())

    def summary(self, workspace: str | None = None) -> dict[str, int]:
        """Row counts: users, events, devices, dropped, merges, deletions."""
        ws = self._ws(workspace)
        store = self._state.store
        return {
            t: store.count(t, ws)
            for t in ("users", "events", "devices", "dropped", "merges", "deletions")
        }

    def counters(self) -> dict[str, dict[str, int]]:
        """Request counts per endpoint, plus ``total``.

        Each has ``requests``, ``2xx``/``4xx``/``5xx``, single statuses (``400``, ``413``,
        ``429``...), and ``reset``/``timeout`` for answers lost to faults.
        """
        return self._state.counters.snapshot()

    def lost_answers(self) -> list[str]:
        """Request ids of requests applied whose answers a fault then lost.

        Those are the ``reset`` faults and the ``garbled`` ones with ``apply``: the requests a
        client may rightly send twice.
        """
        return self._state.counters.lost_answers()

    def rate_usage(self, workspace: str | None = None) -> dict[str, dict[str, Any]]:
        """Rate-limit usage per pool window (see ``RateLimiter.usage``)."""
        return self._state.limiter.usage(workspace)

    def faults(self) -> list[dict[str, Any]]:
        """Active fault rules with how often each matched and fired."""
        return self._state.faults.describe()

    def campaigns(
        self, workspace: str | None = None, *, include_api_triggered: bool = False
    ) -> list[dict[str, Any]]:
        """The workspace's seeded campaigns the campaigns APIs list (parents and children).

        Args:
            workspace: The workspace (default: the main one).
            include_api_triggered: Also list the API-triggered (Messaging API) campaigns,
                which neither the campaigns APIs nor campaign-stats answer for.
        """
        ws = self._ws(workspace)
        found = list(catalogue(ws)) + (list(api_triggered(ws)) if include_api_triggered else [])
        return [campaign.to_dict() for campaign in found]

    def catalogs(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """Catalogs created through the catalog API, oldest first.

        Each has ``catalog_id``, ``feed_id``, ``name``, ``price_currency``, ``attributes``
        (``[{"name", "type"}]`` in definition order), ``created_at``, ``updated_at`` and
        ``items`` (how many it holds). Items themselves: ``CatalogStore.items``.
        """
        ws = self._ws(workspace)
        store = CatalogStore(self._state.store)
        return [
            {**catalog.to_dict(), "items": store.item_count(ws, catalog.catalog_id)}
            for catalog in store.catalogs(ws)
        ]

    def reports(self, workspace: str | None = None) -> list[dict[str, Any]]:
        """Campaign report definitions by name, each with its latest files.

        Each has the definition's fields (``name``, ``generated_on``, ``schedule``,
        ``channels``, ``range_days``), ``workspace`` and ``files`` (newest first:
        ``filename``, ``generated_on``, ``data_from``, ``data_to``, ``expires_at``,
        ``expired``), as of the emulator's clock.
        """
        ws = self._ws(workspace)
        now = self._state.now()
        return [d.describe(now) for d in ReportBook(self._state.store, ws).definitions(ws)]

    def reset(self) -> None:
        """Forget all received data, counters and rate usage.

        Configuration stays: fault rules, report definitions and account states.
        """
        self._state.store.clear()
        self._state.counters.reset()
        self._state.limiter.reset()
