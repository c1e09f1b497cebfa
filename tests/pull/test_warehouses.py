from __future__ import annotations

import pytest

from moengage_pipelines.pull.campaigns.load import pull_campaigns
from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_TABLE
from moengage_pipelines.pull.stats.daily import DAILY_KEY
from moengage_pipelines.pull.stats.load import pull_stats
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE, STATS_TABLE
from tests.pull import activity
from tests.pull.activity import DAYS


def _sorted(warehouse, table, key):
    rows = warehouse.query(f"SELECT * FROM {warehouse.table_name(table).sql}").to_pylist()
    for row in rows:
        row.pop("pulled_at", None)  # the time of the pull differs; report tables have none
    return sorted(rows, key=lambda row: tuple(str(row[k]) for k in key))


@pytest.mark.postgres
def test_duckdb_and_postgres_get_the_same_rows_and_reruns_do_not_duplicate(
    client, warehouse, postgres_warehouse, seeded
):
    for target in (warehouse, postgres_warehouse):
        pull_campaigns(client, target)
        pull_stats(client, target, DAYS[:2])
        pull_stats(client, target, DAYS[1:2])  # a re-pull of one day: replaced, not added
    tidy_key = ("date", "campaign_id", "platform", "variation", "section", "metric")
    daily_key = DAILY_KEY
    duck_tidy = _sorted(warehouse, STATS_TABLE, tidy_key)
    assert duck_tidy == _sorted(postgres_warehouse, STATS_TABLE, tidy_key)
    assert _sorted(warehouse, STATS_DAILY_TABLE, daily_key) == _sorted(
        postgres_warehouse, STATS_DAILY_TABLE, daily_key
    )
    campaigns = _sorted(postgres_warehouse, CAMPAIGNS_TABLE, ("campaign_id",))
    assert campaigns == _sorted(warehouse, CAMPAIGNS_TABLE, ("campaign_id",))
    assert len(campaigns) == 25 and isinstance(campaigns[0]["tags"], list)
    per_day = {}
    for row in duck_tidy:
        per_day[row["date"]] = per_day.get(row["date"], 0) + 1
    assert set(per_day) == set(DAYS[:2]) and per_day[DAYS[0]] == per_day[DAYS[1]]


@pytest.mark.postgres
def test_report_tables_on_postgres_match_duckdb_and_keep_their_types(
    report_server, warehouse, postgres_warehouse
):
    from datetime import date

    from moengage_pipelines.emulator.pytest_plugin import client_for
    from moengage_pipelines.pull.report_files.load import pull_report
    from tests.pull.emulators import define_report

    name, table = "Daily Campaign Report", "moengage_report_daily_campaign_report"
    generated, today = date(2025, 3, 5), date(2025, 3, 6)
    define_report(report_server, name=name, generated_on="2025-03-01", schedule="daily")
    with client_for(report_server) as client:
        activity.send(client, activity.users(), activity.events(DAYS))  # the file's numbers
        outcomes = [
            pull_report(client, target, name, generated, today=today)
            for target in (warehouse, postgres_warehouse, postgres_warehouse)  # a re-pull too
        ]
    assert {outcome.status for outcome in outcomes} == {"ok"}
    rows = outcomes[0].rows
    assert rows > 0 and [outcome.rows for outcome in outcomes] == [rows] * 3
    assert postgres_warehouse.count(table) == rows  # replaced, not added
    key = ("member", "row_number")
    assert _sorted(postgres_warehouse, table, key) == _sorted(warehouse, table, key)
    columns = postgres_warehouse.query(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2",
        [postgres_warehouse.table_name(table).schema, table],
    ).to_pylist()
    types = {column["column_name"]: column["data_type"] for column in columns}
    assert types["report_date"] == "date" and types["date"] == "date"
    assert types["all_platform_sent"] == "double precision"
    assert types["email_ctr"] == "double precision"
    assert types["campaign_id"] == "text"
