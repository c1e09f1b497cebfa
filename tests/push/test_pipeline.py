"""run_push without the network: dry runs, dead letters, report, errors before any row."""

from __future__ import annotations

import datetime as dt

import orjson
import pyarrow as pa
import pytest

from moengage_pipelines.push.mapping import MappingError
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.report import RowsRejectedError
from tests.push.conftest import NOW

EVENTS = {
    "entity": "events", "customer_id": "uid", "event_name_column": "name",
    "event_time_column": "at", "platform_column": "platform", "attributes": ["price", "sku"],
}


def _events(n: int, **overrides) -> dict:
    columns = {
        "uid": [f"user-{i}" for i in range(n)],
        "name": ["Purchase"] * n,
        "at": pa.array([dt.datetime(2025, 5, 1) + dt.timedelta(minutes=i) for i in range(n)],
                       pa.timestamp("us")),
        "platform": ["web"] * n,
        "price": [float(i) for i in range(n)],
        "sku": [f"sku-{i % 13}" for i in range(n)],
    }
    columns.update(overrides)
    return columns


def test_dry_run_packs_everything_and_needs_no_client(parquet_source):
    source = parquet_source(_events(5_000))
    report = run_push(
        source, EVENTS, None, sync_name="events",
        options=PushOptions(dry_run=True, now=NOW, max_body_bytes=20_000, batch_rows=700),
    )
    assert report.dry_run
    assert (report.rows_read, report.rows_valid, report.rows_rejected) == (5_000, 5_000, 0)
    assert report.events_sent == 5_000
    assert report.bodies >= 2
    assert report.largest_body_bytes <= 20_000
    assert report.bodies <= report.ideal_bodies * 1.005 + 1


def test_a_client_is_required_unless_dry_run(parquet_source):
    with pytest.raises(ValueError, match="client"):
        run_push(parquet_source(_events(1)), EVENTS, None, sync_name="x")


def test_rejected_rows_become_dead_letters(parquet_source, dead_letters):
    data = _events(6)
    data["uid"] = ["user-0", "guest", "user-2", "user-3", "user-4", "user-5"]
    data["platform"] = ["web", "web", "Windows", "web", "web", "web"]
    data["at"] = pa.array(
        [dt.datetime(2025, 5, 1), dt.datetime(2025, 5, 1), dt.datetime(2025, 5, 1),
         dt.datetime(2030, 1, 1), dt.datetime(2025, 5, 1), dt.datetime(2025, 5, 1)],
        pa.timestamp("us"),
    )
    report = run_push(
        parquet_source(data), EVENTS, None, sync_name="events", partition="2025-05-01",
        dead_letters=dead_letters, options=PushOptions(dry_run=True, now=NOW),
    )
    assert report.rows_rejected == 3
    assert dict(report.rejected_by_rule) == {
        "banned_customer_id": 1, "invalid_platform": 1, "future_event_time": 1,
    }
    letters = dead_letters.read("events", "2025-05-01").to_pylist()
    got = sorted((r["row_number"], r["rule"], r["column"], r["row_key"]) for r in letters)
    assert got == [
        (1, "banned_customer_id", "uid", "guest"),
        (2, "invalid_platform", "platform", "user-2"),
        (3, "future_event_time", "at", "user-3"),
    ]
    row = orjson.loads(next(r["row"] for r in letters if r["row_number"] == 2))
    assert row["platform"] == "Windows" and row["sku"] == "sku-2" and row["price"] == 2.0


def test_rerun_of_a_partition_replaces_its_dead_letters(parquet_source, dead_letters):
    data = _events(3, uid=["unknown", "user-1", "user-2"])
    source = parquet_source(data)
    for _ in range(2):
        run_push(
            source, EVENTS, None, sync_name="events", partition="p1",
            dead_letters=dead_letters, options=PushOptions(dry_run=True, now=NOW),
        )
    assert dead_letters.count("events", "p1") == 1


def test_dead_letters_of_other_sources_and_partitions_are_kept(parquet_source, dead_letters):
    """Letters are appended per run; a push replaces only its own sync, partition and source."""
    bad = _events(3, uid=["unknown", "user-1", "user-2"])
    first_file, second_file = parquet_source(bad), parquet_source(bad)
    dry = PushOptions(dry_run=True, now=NOW)
    for source, partition, run in [
        (first_file, "p1", "run-1"), (second_file, "p1", "run-2"), (first_file, "p2", "run-3"),
        (first_file, "p1", "run-4"),
    ]:
        run_push(source, EVENTS, None, sync_name="events", partition=partition,
                 dead_letters=dead_letters, options=dry, run_id=run)
    letters = dead_letters.read("events").to_pylist()
    kept = sorted(
        (letter["partition"], letter["run_id"], letter["source"] == first_file.describe())
        for letter in letters
    )
    # run-1 was replaced by run-4 (same sync, partition and source); the others stay.
    assert kept == [("p1", "run-2", False), ("p1", "run-4", True), ("p2", "run-3", True)]


def test_row_larger_than_a_body_becomes_a_dead_letter(parquet_source, dead_letters):
    data = _events(4, sku=["small", "x" * 5_000, "small", "small"])
    report = run_push(
        parquet_source(data), EVENTS, None, sync_name="big", dead_letters=dead_letters,
        options=PushOptions(dry_run=True, now=NOW, max_body_bytes=2_000),
    )
    assert dict(report.rejected_by_rule) == {"row_too_large": 1}
    assert report.events_sent == 3
    [letter] = dead_letters.read("big").to_pylist()
    assert (letter["rule"], letter["row_number"], letter["row_key"]) == (
        "row_too_large", 1, "user-1",
    )
    assert "bytes" in letter["message"]


def test_fail_on_rejects_raises_with_the_report(parquet_source):
    with pytest.raises(RowsRejectedError, match="banned_customer_id=1") as caught:
        run_push(
            parquet_source(_events(3, uid=["user-0", "none", "user-2"])), EVENTS, None,
            sync_name="x", options=PushOptions(dry_run=True, now=NOW, fail_on_rejects=True),
        )
    assert caught.value.report.rows_valid == 2


def test_mapping_problems_fail_before_any_row(
    parquet_source, dead_letters, client, moengage_emulator
):
    mapping = {**EVENTS, "attributes": ["price", "missing_column"]}
    with pytest.raises(MappingError, match="missing_column"):
        run_push(parquet_source(_events(3)), mapping, client, sync_name="x",
                 dead_letters=dead_letters)
    assert moengage_emulator.inspect.counters().get("total", {}).get("requests", 0) == 0
    assert dead_letters.count("x") == 0


def test_report_metadata_is_flat_and_plain(parquet_source):
    report = run_push(
        parquet_source(_events(10, uid=["null"] + [f"user-{i}" for i in range(1, 10)])),
        EVENTS, None, sync_name="events", partition="2025-05-01",
        options=PushOptions(dry_run=True, now=NOW),
    )
    metadata = report.to_metadata()
    assert metadata["rows_read"] == 10
    assert metadata["rows_rejected"] == 1
    assert metadata["rejected_banned_customer_id"] == 1
    assert metadata["ideal_bodies"] == 1
    assert all(isinstance(value, str | int | float | bool) for value in metadata.values())
    assert "10 rows read" in report.summary()


def test_mapping_given_as_yaml_path(parquet_source, tmp_path):
    path = tmp_path / "events.yml"
    path.write_text(
        "entity: events\ncustomer_id: uid\nevent_name: Purchase\nattributes: [sku]\n"
    )
    report = run_push(parquet_source(_events(4)), path, None, sync_name="x",
                      options=PushOptions(dry_run=True, now=NOW))
    assert report.events_sent == 4


def test_time_window_limits_rows(parquet_source):
    from moengage_pipelines.sources import TimeWindow

    data = _events(3, at=pa.array([dt.datetime(2025, 4, 30, 23), dt.datetime(2025, 5, 1, 1),
                                   dt.datetime(2025, 5, 2)], pa.timestamp("us")))
    report = run_push(
        parquet_source(data, time_column="at"), EVENTS, None, sync_name="x",
        window=TimeWindow.for_day("2025-05-01"), options=PushOptions(dry_run=True, now=NOW),
    )
    assert report.rows_read == 1


def test_row_numbers_stay_exact_across_many_parallel_batches(parquet_source, dead_letters):
    n = 500
    uids = [f"user-{i}" if i % 37 else "null" for i in range(n)]
    report = run_push(
        parquet_source(_events(n, uid=uids)), EVENTS, None, sync_name="many",
        dead_letters=dead_letters,
        options=PushOptions(dry_run=True, now=NOW, batch_rows=7, max_body_bytes=3_000),
    )
    expected = [i for i in range(n) if i % 37 == 0]
    letters = dead_letters.read("many").to_pylist()
    assert sorted(letter["row_number"] for letter in letters) == expected
    assert all(letter["row_key"] == "null" for letter in letters)
    assert report.events_sent == n - len(expected)
