"""The nightly sync: yesterday's partition of every push, then the pulls that depend on them."""

import dagster as dg

nightly_moengage_sync = dg.define_asset_job(
    "nightly_moengage_sync",
    selection=dg.AssetSelection.groups("moengage", "moengage_reports"),
    description="Push yesterday's users and events to MoEngage, then pull campaign stats back.",
)

nightly_moengage_sync_schedule = dg.build_schedule_from_partitioned_job(
    nightly_moengage_sync,
    hour_of_day=2,
    minute_of_hour=0,
    description="Every night at 02:00 UTC for the previous day.",
)
