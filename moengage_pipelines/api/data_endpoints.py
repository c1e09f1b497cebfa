"""The Data API endpoints of ``MoEngageClient`` (the data key): bulk import and Get User."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from moengage_pipelines import limits
from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.paths import GET_USER_PATH, transition_path
from moengage_pipelines.api.ratebudget import GET_USER, TRANSITION_EVENTS, TRANSITION_USERS
from moengage_pipelines.api.request_core import RequestCore

__all__ = ["DataEndpoints"]


class DataEndpoints(RequestCore):
    """Bulk import (``/v1/transition``) and Get User (``/v1/customers/export``)."""

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

    def get_users(
        self,
        customer_ids: Sequence[str],
        *,
        fields: Sequence[str] | None = None,
        trace: RequestTrace | None = None,
    ) -> dict[str, Any]:
        """Look users up by customer id (Get User, ``POST /v1/customers/export?app_id=``).

        Each user asked for spends one unit of the ``get_user`` budget (1,000 users a
        minute); looking users up changes nothing, so every failure is safe to retry.

        Args:
            customer_ids: At most 20 customer ids (MoEngage's limit per request).
            fields: Attributes to return; None returns every custom and exportable standard
                attribute.
            trace: Filled in with attempts, retries and waits.

        Returns:
            MoEngage's ``data`` object: ``{"users": [{"user_attributes": {...}}],
            "users_not_found": [{"identifier_type", "identifier"}]}`` (both lists present).

        Raises:
            ValueError: No ids, or more than 20.
        """
        if not customer_ids or len(customer_ids) > limits.GET_USER_MAX_USERS:
            raise ValueError(
                f"Get User takes 1 to {limits.GET_USER_MAX_USERS} users a request, "
                f"got {len(customer_ids)}"
            )
        data: dict[str, Any] = {
            "identifiers": [
                {"identifier_type": "customer_id", "identifier": customer_id}
                for customer_id in customer_ids
            ]
        }
        if fields is not None:
            data["user_fields_to_export"] = list(fields)
        response = self.request(
            "POST",
            GET_USER_PATH,
            key_family="data",
            json={"data": data},
            params={"app_id": self.settings.workspace_id},
            cost={GET_USER: len(customer_ids)},
            trace=trace,
            expected="object",
        )
        answer = self._json(response).get("data")
        answer = answer if isinstance(answer, dict) else {}
        return {
            "users": answer.get("users") or [],
            "users_not_found": answer.get("users_not_found") or [],
        }
