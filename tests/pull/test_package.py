from __future__ import annotations

import importlib

import moengage_pipelines.pull as pull

# Where each public entry point is defined: one sub-package per dataset, shared errors.
HOMES = {
    "CampaignsOptions": "moengage_pipelines.pull.campaigns.fetch",
    "CampaignsReport": "moengage_pipelines.pull.campaigns.load",
    "pull_campaigns": "moengage_pipelines.pull.campaigns.load",
    "StatsOptions": "moengage_pipelines.pull.stats.request",
    "StatsReport": "moengage_pipelines.pull.stats.load",
    "pull_stats": "moengage_pipelines.pull.stats.load",
    "stats_days": "moengage_pipelines.pull.stats.selection",
    "ReportPullReport": "moengage_pipelines.pull.report_files.load",
    "pull_report": "moengage_pipelines.pull.report_files.load",
    "ShapeIssue": "moengage_pipelines.pull.issues",
    "PullError": "moengage_pipelines.pull.errors",
    "ReportSignatureError": "moengage_pipelines.pull.errors",
    "StatsDayError": "moengage_pipelines.pull.errors",
    "ReportUnavailableError": "moengage_pipelines.pull.errors",
    "ResponseShapeError": "moengage_pipelines.pull.errors",
    "StatsNotEnabledError": "moengage_pipelines.pull.errors",
    "StatsRequestError": "moengage_pipelines.pull.errors",
    "StatsWindowError": "moengage_pipelines.pull.errors",
}


def test_the_package_exports_each_entry_point_from_the_module_that_defines_it():
    assert sorted(pull.__all__) == sorted([*HOMES, "SUMMABLE_VIEW"])
    assert pull.SUMMABLE_VIEW == "moengage_campaign_stats_summable"
    for name, home in HOMES.items():
        exported = getattr(pull, name)
        assert exported.__module__ == home, name
        assert getattr(importlib.import_module(home), name) is exported
