"""The Data API endpoints of ``MoEngageClient`` (the data key): bulk import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.paths import transition_path
from moengage_pipelines.api.ratebudget import TRANSITION_EVENTS, TRANSITION_USERS
from moengage_pipelines.api.request_core import RequestCore

__all__ = ["DataEndpoints"]


class DataEndpoints(RequestCore):
    """Bulk import of users and events (``/v1/transition``)."""

    def post_transition(
        self,
        body: bytes,
        *,
        users: int,
        events: int,
        trace: RequestTrace | None = None,
        on_dispatch: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        """Send one bulk-import body (``POST /v1/transition/{workspace_id}``).

        Args:
            body: The exact JSON bytes ``{"type": "transition", "elements": [...]}``.
            users: Customer elements in it (spent from the ``transition_users`` budget).
            events: Event actions in it (spent from the ``transition_events`` budget).
            trace: Filled in with attempts, retries and waits.
            on_dispatch: Called as each attempt goes out, after the rate budget admitted it.

        Returns:
            MoEngage's answer, e.g. ``{"status": "success", "message": "..."}``.
        """
        response = self.request(
            "POST",
            transition_path(self.settings.workspace_id),
            key_family="data",
            content=body,
            cost={TRANSITION_USERS: users, TRANSITION_EVENTS: events},
            trace=trace,
            on_dispatch=on_dispatch,
            expected="object",
        )
        return self._json(response)
