"""A backfill of several days runs as one ranged run (backfill policy multi_run(7)); each day keeps
its own window and dead letters, and re-running a day replaces its dead letters."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import dagster as dg
import duckdb
import pyarrow.parquet as pq

from dagster_project.definitions import defs as load_defs
from sample_data.generate import DEMO_DAY, FIRST_DAY
from sample_data.generate import HERE as SAMPLE_DIR

DAYS = [FIRST_DAY + dt.timedelta(days=offset) for offset in range(3)]


def _range_tags() -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": DAYS[0].isoformat(),
        "dagster/asset_partition_range_end": DAYS[-1].isoformat(),
    }


def _source_events_per_day() -> Counter:
    rows = pq.read_table(SAMPLE_DIR / "events.parquet", columns=["loaded_at"]).column(0)
    return Counter(value.as_py().date() for value in rows)


def test_three_day_backfill_pushes_each_day_once_with_its_own_dead_letters(deployment) -> None:
    definitions = load_defs()
    job = definitions.resolve_job_def("nightly_moengage_sync")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags=_range_tags(),
            asset_selection=[dg.AssetKey(["moengage", "events"])],
            raise_on_error=False,
        )
        assert result.success
        materialized = [
            event.partition
            for event in result.get_asset_materialization_events()
            if event.asset_key == dg.AssetKey(["moengage", "events"])
        ]
    assert sorted(materialized) == [day.isoformat() for day in DAYS]
    metadata = next(
        event.materialization.metadata for event in result.get_asset_materialization_events()
    )
    assert metadata["partitions"].value == len(DAYS)
    assert 0 < metadata["largest_body_bytes"].value <= metadata["max_body_bytes"].value

    received = Counter(
        dt.datetime.fromtimestamp(event["time"], dt.UTC).date()
        for event in deployment.emulator.inspect.events()
    )
    with duckdb.connect(str(deployment.results), read_only=True) as connection:
        letters = dict(
            connection.execute(
                'SELECT "partition", count(*) FROM moengage_dead_letters GROUP BY ALL'
            ).fetchall()
        )
    per_day = _source_events_per_day()
    sent_total = sum(received.values())
    expected_total = sum(per_day[day] for day in DAYS) - sum(letters.values())
    assert sent_total == expected_total
    assert set(letters) == {DEMO_DAY.isoformat()}
