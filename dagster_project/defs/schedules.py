"""The nightly sync: yesterday's partition of every push, then the pulls that depend on them."""

import dagster as dg

from dagster_project.defs.warehouse.assets import catalog_items, events, users

nightly_moengage_sync = dg.define_asset_job(
    "nightly_moengage_sync",
    # Checks on external source tables are not pulled in by a group selection; select them so
    # their blocking checks gate the pushes.
    selection=dg.AssetSelection.groups("moengage", "moengage_reports")
    | dg.AssetSelection.checks_for_assets(users.key, events.key, catalog_items.key),
    description="Push yesterday's users and events to MoEngage, then pull campaign stats back.",
)

nightly_moengage_sync_schedule = dg.build_schedule_from_partitioned_job(
    nightly_moengage_sync,
    hour_of_day=2,
    minute_of_hour=0,
    description="Every night at 02:00 UTC for the previous day.",
)
