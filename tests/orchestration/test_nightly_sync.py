"""The nightly job, run through Dagster against the emulator as a real loopback server.

The expected rows are computed here from the sample Parquet files with plain predicates, not
with the library, so a library bug cannot hide behind itself.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from dagster_project.definitions import defs as load_defs
from moengage_pipelines.limits import BANNED_CUSTOMER_IDS
from sample_data.generate import DEMO_DAY as DAY
from sample_data.generate import sample_files

START = dt.datetime.combine(DAY, dt.time(), dt.UTC)
END = START + dt.timedelta(days=1)


def _in_day(value: dt.datetime) -> bool:
    return START <= value < END


def _valid_id(customer_id: str) -> bool:
    return len(customer_id.strip()) > 1 and customer_id.strip().lower() not in BANNED_CUSTOMER_IDS


def expected_users() -> set[str]:
    rows = pq.read_table(sample_files()["users"]).to_pylist()
    return {
        r["customer_id"] for r in rows if _in_day(r["updated_at"]) and _valid_id(r["customer_id"])
    }


def expected_events() -> tuple[Counter, int]:
    rows = [
        r
        for r in pq.read_table(sample_files()["events"]).to_pylist()
        if _in_day(r["loaded_at"])
    ]
    now = dt.datetime.now(dt.UTC)
    good = [
        r
        for r in rows
        if _valid_id(r["customer_id"])
        and r["event_time"] <= now
        and -54_000 <= r["tz_offset_seconds"] <= 54_000
    ]
    keys = Counter(
        (r["customer_id"], r["event_name"], int(r["event_time"].timestamp())) for r in good
    )
    return keys, len(rows) - len(good)


@pytest.fixture(scope="module")
def nightly_run(module_deployment):
    definitions = load_defs()
    job = definitions.resolve_job_def("nightly_moengage_sync")
    with dg.instance_for_test() as instance:
        result = job.execute_in_process(
            partition_key=DAY.isoformat(), instance=instance, raise_on_error=False
        )
        yield result, module_deployment


def test_emulator_receives_exactly_the_valid_source_rows(nightly_run) -> None:
    result, deployment = nightly_run
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    inspect = deployment.emulator.inspect

    pushed_users = {cid for cid, attrs in inspect.users().items() if "first_name" in attrs}
    assert pushed_users == expected_users()

    want_events, rejected = expected_events()
    got_events = Counter((e["customer_id"], e["action"], int(e["time"])) for e in inspect.events())
    assert got_events == want_events
    assert rejected > 0, "the sample day should contain rows MoEngage would drop"
    # Our validation caught every bad row before MoEngage could drop it silently.
    assert inspect.dropped() == []


def test_rejected_rows_land_in_the_dead_letter_table_with_their_rule(nightly_run) -> None:
    result, deployment = nightly_run
    assert result.success
    _, rejected = expected_events()
    with duckdb.connect(str(deployment.results), read_only=True) as connection:
        letters = connection.execute(
            'SELECT sync_name, "partition", rule, "column" FROM moengage_dead_letters '
            "WHERE sync_name = 'moengage/events'"
        ).fetchall()
    assert len(letters) == rejected
    assert {row[1] for row in letters} == {DAY.isoformat()}
    assert all(row[2] for row in letters)


def test_materializations_report_rows_bodies_and_bytes(nightly_run) -> None:
    result, _ = nightly_run
    by_key = {
        event.asset_key.to_user_string(): event.materialization.metadata
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    }
    events = by_key["moengage/events"]
    want_events, rejected = expected_events()
    assert events["rows_valid"].value == sum(want_events.values())
    assert events["rows_rejected"].value == rejected
    assert events["bodies"].value >= 1
    assert 0 < events["largest_body_bytes"].value <= 100_000
    assert events["bytes_sent"].value >= events["largest_body_bytes"].value
    assert by_key["moengage/users"]["rows_valid"].value == len(expected_users())
    assert "moengage_reports/campaign_stats" in by_key


def test_campaign_stats_reach_the_results_warehouse(nightly_run) -> None:
    result, deployment = nightly_run
    assert result.success
    with duckdb.connect(str(deployment.results), read_only=True) as connection:
        rows = connection.execute(
            "SELECT count(*) FROM moengage_campaign_stats WHERE date = ?", [DAY]
        ).fetchone()[0]
    assert rows > 0


def test_no_key_appears_in_the_run_logs_or_metadata(nightly_run) -> None:
    result, deployment = nightly_run
    settings = deployment.emulator.settings
    secrets = (settings.data_api_key, settings.campaign_api_key)
    texts = []
    for event in result.all_events:
        texts.append(event.message or "")
        texts.append(repr(event.event_specific_data))
    joined = "\n".join(texts)
    assert "moengage/events" in joined  # the events really were captured
    for secret in secrets:
        assert secret not in joined
