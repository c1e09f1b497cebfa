from __future__ import annotations

import uuid

import psycopg
import pytest

from moengage_pipelines.pull.pipeline import pull_catalogue, pull_stats
from moengage_pipelines.pull.tables import CAMPAIGNS_TABLE, STATS_DAILY_TABLE, STATS_TABLE
from moengage_pipelines.warehouse import Warehouse
from tests.pull.activity import DAYS


@pytest.fixture
def postgres_warehouse(postgres_dsn):
    schema = f"pull_{uuid.uuid4().hex[:12]}"
    with Warehouse.open(f"{postgres_dsn}?schema={schema}") as warehouse:
        yield warehouse
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _sorted(warehouse, table, key):
    rows = warehouse.query(f"SELECT * FROM {warehouse.table_name(table).sql}").to_pylist()
    for row in rows:
        row.pop("pulled_at")
    return sorted(rows, key=lambda row: tuple(str(row[k]) for k in key))


@pytest.mark.postgres
def test_duckdb_and_postgres_get_the_same_rows_and_reruns_do_not_duplicate(
    client, warehouse, postgres_warehouse, seeded
):
    for target in (warehouse, postgres_warehouse):
        pull_catalogue(client, target)
        pull_stats(client, target, DAYS[:2])
        pull_stats(client, target, DAYS[1:2])  # a re-pull of one day: replaced, not added
    tidy_key = ("date", "campaign_id", "platform", "variation", "section", "metric")
    daily_key = ("date", "campaign_id", "platform")
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
