"""Freshness and automation applied across the loaded definitions, by asset group.

The push assets are built by ``MoEngagePushComponent`` from YAML; their freshness policy is
set here, once for the group, the way one applies a deployment-wide policy in Dagster
(``Definitions.map_resolved_asset_specs``), so every sync added by YAML gets it too. An asset
that declares its own policy keeps it.

The report assets get an example automation condition: re-pull the latest partition at
06:00 UTC, when the stats of the night's sends have had time to settle. Its sensor,
``moengage_reports_automation`` (``defs/operations/automation.py``), is stopped by default, so
nothing runs until an operator turns it on; the nightly schedule stays the way pushes run.
"""

import warnings
from datetime import timedelta

import dagster as dg
from dagster_shared.utils.warnings import PreviewWarning

__all__ = [
    "PUSH_FRESHNESS",
    "PUSH_GROUP",
    "REPORTS_AUTOMATION",
    "REPORTS_GROUP",
    "apply_policies",
]

PUSH_GROUP = "moengage"
REPORTS_GROUP = "moengage_reports"
# The nightly job runs every 24 hours at 02:00 UTC: two hours late warns, a missed night fails.
PUSH_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(hours=36), warn_window=timedelta(hours=26)
)
REPORTS_AUTOMATION = (
    dg.AutomationCondition.on_cron("0 6 * * *", "UTC") & ~dg.AutomationCondition.in_progress()
).with_label("latest partition at 06:00 UTC")


def _with_push_freshness(spec: dg.AssetSpec) -> dg.AssetSpec:
    return dg.apply_freshness_policy(spec, PUSH_FRESHNESS, overwrite_existing=False)


def _with_reports_automation(spec: dg.AssetSpec) -> dg.AssetSpec:
    if spec.automation_condition is not None:
        return spec
    return spec.replace_attributes(automation_condition=REPORTS_AUTOMATION)


def apply_policies(definitions: dg.Definitions) -> dg.Definitions:
    """``definitions`` with the push freshness policy and the reports' automation condition."""
    # map_resolved_asset_specs is marked preview in 1.13; it is the documented way to apply a
    # policy to a group, and a warning on every load would only be noise for operators.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        definitions = definitions.map_resolved_asset_specs(
            func=_with_push_freshness, selection=dg.AssetSelection.groups(PUSH_GROUP)
        )
        return definitions.map_resolved_asset_specs(
            func=_with_reports_automation, selection=dg.AssetSelection.groups(REPORTS_GROUP)
        )
