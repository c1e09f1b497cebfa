"""A backfill of several days runs as one ranged run (backfill policy multi_run(7)); each day gets
its own materialization with its own figures and partition key, its own window and dead letters.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import dagster as dg
import duckdb

from dagster_project.definitions import defs as load_defs
from sample_data.generate import DEMO_DAY

# The last three days: the demo day among them has rejected rows, the others none.
DAYS = [(DEMO_DAY - dt.timedelta(days=offset)).isoformat() for offset in (2, 1, 0)]
EVENTS = dg.AssetKey(["moengage", "events"])


def source_rows_per_day(warehouse: Path) -> dict[str, int]:
    """Rows of the source events table per UTC day of ``loaded_at``, counted by DuckDB."""
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        rows = connection.execute(
            "SELECT CAST(CAST(loaded_at AS DATE) AS VARCHAR), count(*) FROM events GROUP BY 1"
        ).fetchall()
    return dict(rows)


def dead_letters_per_day(results: Path) -> dict[str, int]:
    """Rejected event rows per partition, as the dead-letter table holds them."""
    with duckdb.connect(str(results), read_only=True) as connection:
        rows = connection.execute(
            'SELECT "partition", count(*) FROM moengage_dead_letters '
            "WHERE sync_name = 'moengage/events' GROUP BY ALL"
        ).fetchall()
    return dict(rows)


def assert_each_partition_tells_its_own_truth(
    materializations: list[dg.AssetMaterialization], warehouse: Path, results: Path
) -> None:
    """One materialization per day, each with that day's counts and partition key."""
    source, letters = source_rows_per_day(warehouse), dead_letters_per_day(results)
    by_partition = {event.partition: event.metadata for event in materializations}
    assert sorted(by_partition) == DAYS and len(materializations) == len(DAYS)
    for day, metadata in by_partition.items():
        assert metadata["partition"].value == day
        assert metadata["rows_read"].value == source[day], day
        assert metadata["rows_rejected"].value == letters.get(day, 0), day
        assert metadata["dagster/row_count"].value == source[day] - letters.get(day, 0), day
        assert metadata["events_sent"].value == metadata["dagster/row_count"].value
        rules = metadata["rejected_by_rule"].value.records
        assert sum(record.data["rows"] for record in rules) == letters.get(day, 0)
        assert "users_sent" not in metadata and "items_sent" not in metadata
        sent = {column.name for column in metadata["dagster/column_schema"].schema.columns}
        assert {"customer_id", "action", "current_time"} <= sent
    assert letters.get(DAYS[-1], 0) > 0 and letters.get(DAYS[0], 0) == 0


def test_three_day_backfill_gives_each_day_its_own_materialization(deployment) -> None:
    job = load_defs().resolve_job_def("nightly_moengage_sync")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": DAYS[0],
                "dagster/asset_partition_range_end": DAYS[-1],
            },
            asset_selection=[EVENTS],
            raise_on_error=False,
        )
    assert result.success
    materializations = [
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.asset_key == EVENTS
    ]
    assert_each_partition_tells_its_own_truth(
        materializations, deployment.warehouse, deployment.results
    )
    received = Counter(
        dt.datetime.fromtimestamp(event["time"], dt.UTC).date()
        for event in deployment.emulator.inspect.events()
    )
    delivered = sum(event.metadata["dagster/row_count"].value for event in materializations)
    assert sum(received.values()) == delivered
