"""Pull stage: campaign catalogue, campaign stats and report files → warehouse tables.

``api.client`` → :mod:`.campaigns` / :mod:`.stats` / :mod:`.reports` → :mod:`.normalization`
→ :mod:`.tables`, wired by :mod:`.pipeline`:

* :func:`pull_catalogue` → ``moengage_campaigns``;
* :func:`pull_stats` → ``moengage_campaign_stats`` (tidy) and
  ``moengage_campaign_stats_daily`` (wide), one day at a time, each day replaced;
* :func:`pull_report` → ``moengage_report_<name>``, per generation date.
"""

from moengage_pipelines.pull.campaigns import CatalogueOptions
from moengage_pipelines.pull.errors import (
    PullError,
    ReportUnavailableError,
    ResponseShapeError,
    StatsNotEnabledError,
    StatsRequestError,
    StatsWindowError,
)
from moengage_pipelines.pull.pipeline import (
    CatalogueReport,
    ReportPullReport,
    StatsReport,
    pull_catalogue,
    pull_report,
    pull_stats,
    stats_days,
)
from moengage_pipelines.pull.stats import StatsOptions

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
