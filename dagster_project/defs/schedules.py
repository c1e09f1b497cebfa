"""The nightly sync: yesterday's partition of every push, then the pulls that depend on them.

The schedule is STOPPED by default, so a fresh instance (``make dev``, a new deployment) never
pushes to MoEngage before someone means it to. Start it in the UI (Automation →
``nightly_moengage_sync_schedule`` → toggle), with
``dagster schedule start nightly_moengage_sync_schedule`` (the daemon must be running: ``dg dev``
or ``dagster-daemon run``), or set ``MOENGAGE_NIGHTLY_SCHEDULE=running`` where the code location
loads to make RUNNING its default.
"""

import os

import dagster as dg

nightly_moengage_sync = dg.define_asset_job(
    "nightly_moengage_sync",
    # The blocking column checks belong to the push assets themselves, so a group selection
    # (like every UI launch) runs them.
    selection=dg.AssetSelection.groups("moengage", "moengage_reports"),
    description="Push yesterday's users and events to MoEngage, then pull campaign stats back.",
)

SCHEDULE_STATUS_VARIABLE = "MOENGAGE_NIGHTLY_SCHEDULE"


def default_schedule_status() -> dg.DefaultScheduleStatus:
    """RUNNING when ``MOENGAGE_NIGHTLY_SCHEDULE`` is ``running``, else STOPPED.

    Raises:
        ValueError: When the variable holds anything else, so a typo does not leave it off.
    """
    value = os.environ.get(SCHEDULE_STATUS_VARIABLE, "stopped").strip().lower()
    statuses = {
        "running": dg.DefaultScheduleStatus.RUNNING,
        "stopped": dg.DefaultScheduleStatus.STOPPED,
    }
    if value not in statuses:
        raise ValueError(
            f"{SCHEDULE_STATUS_VARIABLE} must be 'running' or 'stopped', not {value!r}"
        )
    return statuses[value]


nightly_moengage_sync_schedule = dg.build_schedule_from_partitioned_job(
    nightly_moengage_sync,
    hour_of_day=2,
    minute_of_hour=0,
    description="Every night at 02:00 UTC for the previous day.",
    default_status=default_schedule_status(),
)
