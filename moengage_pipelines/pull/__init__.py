"""Pull stage: campaigns, campaign stats and report files → warehouse tables.

One sub-package per dataset, each read ``fetch → normalize → load``:

* :mod:`.campaigns`: :func:`pull_campaigns` → ``moengage_campaigns``;
* :mod:`.stats`: :func:`pull_stats` → ``moengage_campaign_stats`` (tidy) and
  ``moengage_campaign_stats_daily`` (wide), one day at a time, each day replaced
  (:func:`stats_days` adds the restatement lookback);
* :mod:`.report_files`: :func:`pull_report` → ``moengage_report_<name>``, per generation date.

:mod:`.errors` and :mod:`.issues` (parts of answers that could not be read) are shared;
:mod:`.stats.model` declares the stats tables' keys and the summable view
``moengage_campaign_stats_summable``; :mod:`.dbt_sources` describes the tables for dbt.
"""

from moengage_pipelines.pull.campaigns.fetch import CampaignsOptions
from moengage_pipelines.pull.campaigns.load import CampaignsReport, pull_campaigns
from moengage_pipelines.pull.errors import (
    PullError,
    ReportSignatureError,
    ReportUnavailableError,
    ResponseShapeError,
    StatsDayError,
    StatsNotEnabledError,
    StatsRequestError,
    StatsWindowError,
)
from moengage_pipelines.pull.issues import ShapeIssue
from moengage_pipelines.pull.report_files.load import ReportPullReport, pull_report
from moengage_pipelines.pull.stats.load import StatsReport, pull_stats
from moengage_pipelines.pull.stats.model import SUMMABLE_VIEW
from moengage_pipelines.pull.stats.request import StatsOptions
from moengage_pipelines.pull.stats.selection import stats_days

__all__ = [
    "SUMMABLE_VIEW",
    "CampaignsOptions",
    "CampaignsReport",
    "PullError",
    "ReportPullReport",
    "ReportSignatureError",
    "ReportUnavailableError",
    "ResponseShapeError",
    "ShapeIssue",
    "StatsDayError",
    "StatsNotEnabledError",
    "StatsOptions",
    "StatsReport",
    "StatsRequestError",
    "StatsWindowError",
    "pull_campaigns",
    "pull_report",
    "pull_stats",
    "stats_days",
]
