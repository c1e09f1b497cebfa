"""Pull stage: campaign catalogue, campaign stats and report files → warehouse tables.

``api.client`` → :mod:`.campaigns` / :mod:`.stats` / :mod:`.reports` → :mod:`.normalization`
→ :mod:`.tables`, wired by one module per pull:

* :func:`pull_catalogue` (:mod:`.catalogue_pull`) → ``moengage_campaigns``;
* :func:`pull_stats` (:mod:`.stats_pull`) → ``moengage_campaign_stats`` (tidy) and
  ``moengage_campaign_stats_daily`` (wide), one day at a time, each day replaced;
* :func:`pull_report` (:mod:`.report_pull`) → ``moengage_report_<name>``, per generation date.
"""

from moengage_pipelines.pull.campaigns import CatalogueOptions
from moengage_pipelines.pull.catalogue_pull import CatalogueReport, pull_catalogue
from moengage_pipelines.pull.errors import (
    PullError,
    ReportUnavailableError,
    ResponseShapeError,
    StatsNotEnabledError,
    StatsRequestError,
    StatsWindowError,
)
from moengage_pipelines.pull.report_pull import ReportPullReport, pull_report
from moengage_pipelines.pull.stats import StatsOptions
from moengage_pipelines.pull.stats_pull import StatsReport, pull_stats, stats_days

__all__ = [
    "CatalogueOptions",
    "CatalogueReport",
    "PullError",
    "ReportPullReport",
    "ReportUnavailableError",
    "ResponseShapeError",
    "StatsNotEnabledError",
    "StatsOptions",
    "StatsReport",
    "StatsRequestError",
    "StatsWindowError",
    "pull_catalogue",
    "pull_report",
    "pull_stats",
    "stats_days",
]
