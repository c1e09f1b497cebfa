"""The campaign endpoints of ``MoEngageClient`` (the campaign key): search, stats, reports."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

from moengage_pipelines.api.paths import CAMPAIGN_SEARCH_PATH, CAMPAIGN_STATS_PATH, report_path
from moengage_pipelines.api.request_core import RequestCore

__all__ = ["CampaignEndpoints"]


class CampaignEndpoints(RequestCore):
    """The campaign catalogue, campaign stats and campaign report files."""

    def search_campaigns(self, payload: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One page of ``POST /core-services/v1/campaigns/search``.

        A ``request_id`` is added when the payload has none.

        Returns:
            The campaigns of the page (MoEngage answers a bare array).
        """
        response = self.request(
            "POST",
            CAMPAIGN_SEARCH_PATH,
            key_family="campaign",
            json=_with_request_id(payload),
            expected="json",
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
            "POST",
            CAMPAIGN_STATS_PATH,
            key_family="campaign",
            json=_with_request_id(payload),
            expected="json",
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
        path = report_path(self.settings.workspace_id, filename)
        response = self.request(
            "GET",
            path,
            key_family=None,
            headers={"Signature": self.report_signature(filename)},
        )
        return response.content


def _with_request_id(payload: Mapping[str, Any]) -> dict[str, Any]:
    document = dict(payload)
    document.setdefault("request_id", uuid.uuid4().hex)
    return document
