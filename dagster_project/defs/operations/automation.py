"""The sensor evaluating the report assets' automation condition (see ``policies.py``).

Stopped by default: turn it on in the UI (Automation → ``moengage_reports_automation``) or
with ``dagster sensor start moengage_reports_automation``.
"""

import dagster as dg

from dagster_project.policies import REPORTS_GROUP

moengage_reports_automation = dg.AutomationConditionSensorDefinition(
    "moengage_reports_automation",
    target=dg.AssetSelection.groups(REPORTS_GROUP),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    description=(
        "Evaluates the automation condition of the moengage_reports assets "
        "(their latest partition re-pulled at 06:00 UTC). Stopped by default."
    ),
)
