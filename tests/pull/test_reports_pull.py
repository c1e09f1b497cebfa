from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from moengage_pipelines.emulator.pytest_plugin import client_for
from moengage_pipelines.pull.report_files.load import pull_report
from moengage_pipelines.pull.stats.load import pull_stats
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE
from tests.pull import activity
from tests.pull.activity import DAYS
from tests.pull.emulators import define_report

NAME = "Daily Campaign Report"
TABLE = "moengage_report_daily_campaign_report"
GENERATED = date(2025, 3, 5)  # a daily file covers the day before: 2025-03-04
TODAY = date(2025, 3, 6)


@pytest.fixture
def report_client(report_server):
    with client_for(report_server) as client:
        yield client


@pytest.fixture
def report_seeded(report_server, report_client):
    customers = activity.users()
    sent = activity.events(DAYS)
    activity.send(report_client, customers, sent)
    define_report(report_server, name=NAME, generated_on="2025-03-01", schedule="daily")
    return customers, sent


def test_a_report_file_is_downloaded_unzipped_and_typed(
    report_server, report_client, warehouse, report_seeded
):
    customers, sent = report_seeded
    outcome = pull_report(report_client, warehouse, NAME, GENERATED, today=TODAY)
    assert outcome.status == "ok", outcome.message
    assert outcome.filename == "Daily_Campaign_Report_20250305.zip"
    assert outcome.table == TABLE
    assert len(outcome.members) == 3  # one CSV per channel
    kinds = outcome.columns
    assert kinds["date"] == "date"
    assert kinds["campaign_id"] == "text" and kinds["campaign_name"] == "text"
    assert kinds["all_platform_sent"] == "number" and kinds["email_ctr"] == "number"
    rows = warehouse.query(f"SELECT * FROM {TABLE}").to_pylist()
    assert len(rows) == outcome.rows > 0
    assert {row["report_date"] for row in rows} == {GENERATED}
    assert {row["date"] for row in rows} == {date(2025, 3, 4)}
    campaigns = {c["campaign_id"]: c for c in report_server.emulator.inspect.campaigns()}
    day = date(2025, 3, 4)
    checked = 0
    for row in rows:
        campaign = campaigns[row["campaign_id"]]
        expected = [
            activity.expected_counts(campaign, platform, day, sent, customers)
            for platform in activity.stats_platforms(campaign)
        ]
        conversions = sum(e["conversions"] for e in expected)
        if campaign["channel"] == "PUSH":
            assert row["all_platform_sent"] == sum(e["sent"] for e in expected)
            assert row["all_platform_clicks"] == sum(e["clicks"] for e in expected)
            assert row["goal_1_click_through_conversion_events_all_platform"] == conversions
        elif campaign["channel"] == "EMAIL":
            assert row["email_sent"] == expected[0]["sent"]
            assert row["email_delivered"] == expected[0]["delivered"]
            assert row["goal_1_click_through_conversion_events"] == conversions
        else:
            assert row["sms_sent"] == expected[0]["sent"]
        checked += 1
    assert checked == len(rows)


def test_report_and_stats_agree_for_the_same_day(
    report_server, report_client, warehouse, report_seeded
):
    pull_report(report_client, warehouse, NAME, GENERATED, today=TODAY)
    pull_stats(report_client, warehouse, [date(2025, 3, 4)], campaigns="active")
    report = warehouse.query(
        f"SELECT campaign_id, all_platform_sent FROM {TABLE} WHERE all_platform_sent IS NOT NULL"
    ).to_pylist()
    stats = warehouse.query(
        f"SELECT campaign_id, sum(sent) AS sent FROM {STATS_DAILY_TABLE} GROUP BY campaign_id"
    ).to_pylist()
    by_campaign = {row["campaign_id"]: row["sent"] for row in stats}
    assert report and all(by_campaign[r["campaign_id"]] == r["all_platform_sent"] for r in report)


def test_a_re_pull_replaces_the_files_rows(report_client, warehouse, report_seeded):
    first = pull_report(report_client, warehouse, NAME, GENERATED, today=TODAY)
    again = pull_report(report_client, warehouse, NAME, GENERATED, today=TODAY)
    other = pull_report(report_client, warehouse, NAME, date(2025, 3, 4), today=TODAY)
    assert first.rows == again.rows
    assert warehouse.count(TABLE) == first.rows + other.rows
    assert warehouse.count(TABLE, where={"report_date": GENERATED}) == first.rows


def test_a_missing_file_says_so_and_writes_nothing(report_client, warehouse, report_seeded):
    outcome = pull_report(report_client, warehouse, "Weekly Nope", GENERATED, today=TODAY)
    assert outcome.status == "missing" and not outcome.present
    assert "Weekly_Nope_20250305.zip" in outcome.message
    assert "'Weekly Nope'" in outcome.message and "generation date" in outcome.message
    assert not warehouse.table_exists("moengage_report_weekly_nope")


def test_an_expired_file_says_so_and_keeps_rows_loaded_earlier(
    report_server, report_client, warehouse, report_seeded, clock
):
    loaded = pull_report(report_client, warehouse, NAME, GENERATED, today=TODAY)
    clock.moment = datetime(2025, 3, 13, 12, tzinfo=UTC)  # 8 days after generation
    outcome = pull_report(report_client, warehouse, NAME, GENERATED, today=date(2025, 3, 13))
    assert outcome.status == "expired"
    assert "expired" in outcome.message and "7 days" in outcome.message
    assert warehouse.count(TABLE) == loaded.rows
