"""Where MoEngage's endpoints live, which need ``MOE-APPKEY``, and what a request costs.

The paths are those of the API host of a data centre (or of ``MOENGAGE_BASE_URL``); the costs
are units of the rate-budget buckets MoEngage counts each endpoint family against.
"""

from __future__ import annotations

from urllib.parse import quote

from moengage_pipelines.api.ratebudget import CAMPAIGN_STATS, CAMPAIGNS, CATALOG
from moengage_pipelines.config import KeyFamily

__all__ = [
    "CAMPAIGN_SEARCH_PATH",
    "CAMPAIGN_STATS_PATH",
    "CATALOG_PATH",
    "GET_USER_PATH",
    "catalog_path",
    "default_cost",
    "needs_appkey",
    "report_path",
    "transition_path",
]

CAMPAIGN_SEARCH_PATH = "/core-services/v1/campaigns/search"
CAMPAIGN_STATS_PATH = "/core-services/v1/campaign-stats"
CATALOG_PATH = "/v1/catalog"
# Get User: the workspace is the ``app_id`` query parameter.
GET_USER_PATH = "/v1/customers/export"
_CAMPAIGNS_PREFIX = "/core-services/v1/campaigns"

# Path prefixes of the Data-key families that still require MOE-APPKEY (segments, imports).
_APPKEY_DATA_PREFIXES = ("/v2/custom-segments", "/v3/custom-segments", "/v1.0/data/fileimports")


def transition_path(workspace_id: str) -> str:
    """The bulk-import path of a workspace: ``/v1/transition/{workspace_id}``."""
    return f"/v1/transition/{quote(workspace_id, safe='')}"


def report_path(workspace_id: str, filename: str) -> str:
    """The download path of a campaign report file.

    Raises:
        ValueError: If ``filename`` is not a plain file name (it holds a path separator).
    """
    if not filename or "/" in filename or "\\" in filename or filename in {".", ".."}:
        raise ValueError(f"report filename must be a plain file name, got {filename!r}")
    return f"/campaign_reports/rest_api/{quote(workspace_id, safe='')}/{quote(filename, safe='')}"


def catalog_path(catalog_id: str, suffix: str = "") -> str:
    """The path of one catalog, with ``suffix`` (such as ``"/items"``) appended.

    Raises:
        ValueError: If ``catalog_id`` is empty.
    """
    if not catalog_id:
        raise ValueError("catalog_id must not be empty")
    return f"{CATALOG_PATH}/{quote(catalog_id, safe='')}{suffix}"


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
    if path.startswith(_CAMPAIGNS_PREFIX):
        return {CAMPAIGNS: 1}
    return {}
