"""The pulled tables as a model, on DuckDB and PostgreSQL: keys, the summable view, migration.

The parents-only totals are computed apart from the pull: the parent campaigns come from the
emulator's own catalogue, their numbers from campaign-stats answers read here directly (the
all-locales, all-variations numbers of every platform), never from the warehouse.
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa
import pytest

from moengage_pipelines.pull.campaigns.load import pull_campaigns
from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_SCHEMA, CAMPAIGNS_TABLE
from moengage_pipelines.pull.errors import StatsDayError
from moengage_pipelines.pull.stats.daily import DAILY_KEY
from moengage_pipelines.pull.stats.load import pull_stats
from moengage_pipelines.pull.stats.model import SUMMABLE_VIEW
from moengage_pipelines.pull.stats.tables import STATS_DAILY_SCHEMA, STATS_DAILY_TABLE, STATS_TABLE
from moengage_pipelines.warehouse import WarehouseError, primary_key
from tests.pull import activity
from tests.pull.activity import DAYS

SUMMED = ("sent", "delivered", "clicks", "conversions", "revenue")
# The analyst's query, as docs/pull.md shows it.
ANALYST_QUERY = (
    "SELECT date, SUM(sent) AS sent, SUM(delivered) AS delivered, SUM(clicks) AS clicks, "
    "SUM(conversions) AS conversions, SUM(revenue) AS revenue FROM {view} "
    "WHERE attribution_type = 'CLICK_THROUGH' AND metric_type = 'TOTAL' GROUP BY date"
)


def _parents_only_totals(server, client) -> dict:
    """Day → totals over the parent campaigns, read from MoEngage's answers directly."""
    parents = [c["campaign_id"] for c in server.emulator.inspect.campaigns() if not c["parent_id"]]
    columns = {"sent": "sent", "delivered": "delivered", "clicks": "click"}
    totals: dict = {}
    for day in DAYS:
        sums = dict.fromkeys(SUMMED, 0.0)
        for start in range(0, len(parents), 10):
            answer = client.campaign_stats(
                {
                    "campaign_ids": parents[start : start + 10],
                    "start_date": day.isoformat(),
                    "end_date": day.isoformat(),
                    "attribution_type": "CLICK_THROUGH",
                    "metric_type": "TOTAL",
                }
            )
            for [entry] in answer["data"].values():
                for platform in entry["platforms"].values():
                    numbers = platform["locales"]["all_locales"]["variations"]["all_variations"]
                    for column, metric in columns.items():
                        sums[column] += numbers["performance_stats"][metric]
                    [goal] = numbers["conversion_goal_stats"].values()
                    sums["conversions"] += goal["conversions"]
                    sums["revenue"] += goal["revenue"]
        totals[day] = sums
    return totals


def _view_totals(warehouse, relation: str) -> dict:
    query = ANALYST_QUERY.format(view=warehouse.table_name(relation).sql)
    return {row.pop("date"): row for row in warehouse.query(query).to_pylist()}


def test_sum_over_the_summable_view_is_the_parents_only_total(
    moengage_emulator_server, client, any_warehouse, seeded
):
    pull_campaigns(client, any_warehouse)
    pull_stats(client, any_warehouse, DAYS)
    expected = _parents_only_totals(moengage_emulator_server, client)
    summed = _view_totals(any_warehouse, SUMMABLE_VIEW)
    assert set(summed) == set(DAYS)
    for day in DAYS:
        for column in SUMMED:
            assert summed[day][column] == pytest.approx(expected[day][column]), (day, column)
    assert all(expected[day]["sent"] > 0 for day in DAYS)
    # The periodic runs are in the daily table: a plain SUM over it counts them twice, which
    # is what the view is for.
    daily = any_warehouse.table_name(STATS_DAILY_TABLE).sql
    naive = (
        any_warehouse.query(
            f"SELECT SUM(sent) AS sent FROM {daily} WHERE in_campaign_total "
            "AND attribution_type = 'CLICK_THROUGH' AND metric_type = 'TOTAL'"
        )
        .column(0)[0]
        .as_py()
    )
    assert naive > sum(expected[day]["sent"] for day in DAYS)
    # The view carries the campaign's name and channel, and platforms as pushed events do.
    view = any_warehouse.table_name(SUMMABLE_VIEW).sql
    rows = any_warehouse.query(f"SELECT DISTINCT channel, platform FROM {view}").to_pylist()
    assert {(r["channel"], r["platform"]) for r in rows} == {
        ("PUSH", "ANDROID"),
        ("PUSH", "iOS"),
        ("PUSH", "web"),
        ("EMAIL", "EMAIL"),
        ("SMS", "SMS"),
    }


def _repeated_keys(warehouse, table: str, key) -> list:
    columns = ", ".join(f'"{column}"' for column in key)
    name = warehouse.table_name(table).sql
    return warehouse.query(
        f"SELECT {columns}, count(*) AS n FROM {name} GROUP BY {columns} HAVING count(*) > 1"
    ).to_pylist()


def _index_count(warehouse, table: str) -> int:
    """Indexes of a table that are not its primary key."""
    name = warehouse.table_name(table)
    if warehouse.kind == "duckdb":
        sql = "SELECT count(*) FROM duckdb_indexes() WHERE table_name = $1"
    else:
        sql = (
            "SELECT count(*) FROM pg_indexes WHERE tablename = $1 "
            "AND schemaname = current_schema() AND indexname NOT LIKE '%pkey'"
        )
    return warehouse.query(sql, [name.name]).column(0)[0].as_py()


def test_keys_are_declared_and_unique_after_repeated_and_restated_pulls(
    moengage_emulator_server, client, any_warehouse, seeded
):
    customers, _ = seeded
    pull_campaigns(client, any_warehouse)
    pull_campaigns(client, any_warehouse)
    pull_stats(client, any_warehouse, DAYS)
    pull_stats(client, any_warehouse, DAYS[1:])  # a re-run
    late = activity.events(DAYS[-1:], salt=1)
    activity.send(client, customers, late)
    pull_stats(client, any_warehouse, DAYS[-1:])  # restated numbers
    one = moengage_emulator_server.emulator.inspect.campaigns()[0]["campaign_id"]
    pull_stats(client, any_warehouse, DAYS[:1], campaigns=[one])  # one campaign replaced
    assert primary_key(any_warehouse, STATS_DAILY_TABLE) == list(DAILY_KEY)
    assert primary_key(any_warehouse, CAMPAIGNS_TABLE) == ["campaign_id"]
    assert _index_count(any_warehouse, STATS_TABLE) == 1  # (date, campaign_id)
    assert _repeated_keys(any_warehouse, STATS_DAILY_TABLE, DAILY_KEY) == []
    assert _repeated_keys(any_warehouse, CAMPAIGNS_TABLE, ("campaign_id",)) == []
    # The view still sums to MoEngage's parents-only numbers, the restated ones included.
    expected = _parents_only_totals(moengage_emulator_server, client)
    summed = _view_totals(any_warehouse, SUMMABLE_VIEW)
    assert {day: summed[day]["conversions"] for day in DAYS} == {
        day: pytest.approx(expected[day]["conversions"]) for day in DAYS
    }
    # The key is enforced by the database, not only kept by the pull.
    daily = any_warehouse.table_name(STATS_DAILY_TABLE).sql
    existing = any_warehouse.query(f"SELECT * FROM {daily} LIMIT 1")
    with pytest.raises(WarehouseError):
        any_warehouse.append(STATS_DAILY_TABLE, existing)


# The daily table as an earlier release wrote it: one row per campaign and platform.
_OLD_DAILY = pa.schema(
    [
        ("date", pa.date32()),
        ("campaign_id", pa.string()),
        ("platform", pa.string()),
        ("attribution_type", pa.string()),
        ("metric_type", pa.string()),
        ("sent", pa.float64()),
        ("ctr", pa.float64()),
        ("control_group_conversions", pa.float64()),
    ]
)


def test_tables_of_the_previous_layout_are_migrated_not_failed_on(
    moengage_emulator_server, client, any_warehouse, seeded
):
    pull_campaigns(client, any_warehouse)
    pull_stats(client, any_warehouse, DAYS)
    fresh = _view_totals(any_warehouse, SUMMABLE_VIEW)
    tidy_rows = any_warehouse.count(STATS_TABLE)
    # Back to the previous layout: no key, no locale or variation, the same row twice, and a
    # campaigns table without the family columns and without a key.
    any_warehouse.execute(f"DROP VIEW {any_warehouse.table_name(SUMMABLE_VIEW).sql}")
    any_warehouse.drop_table(STATS_DAILY_TABLE)
    old = {"date": DAYS[0], "campaign_id": "c1", "platform": "ANDROID",
           "attribution_type": "CLICK_THROUGH", "metric_type": "TOTAL", "sent": 1.0,
           "ctr": None, "control_group_conversions": 0.0}  # fmt: skip
    any_warehouse.append(STATS_DAILY_TABLE, pa.Table.from_pylist([old, old], schema=_OLD_DAILY))
    campaigns = any_warehouse.query(
        f"SELECT * FROM {any_warehouse.table_name(CAMPAIGNS_TABLE).sql}"
    ).drop_columns(["is_parent", "is_child"])
    any_warehouse.drop_table(CAMPAIGNS_TABLE)
    any_warehouse.append(CAMPAIGNS_TABLE, campaigns)
    assert primary_key(any_warehouse, CAMPAIGNS_TABLE) == []

    report = pull_stats(client, any_warehouse, DAYS[-1:])
    assert any("older layout" in note and "rebuilt" in note for note in report.notes)
    assert primary_key(any_warehouse, STATS_DAILY_TABLE) == list(DAILY_KEY)
    # Every day comes back from the tidy table, not only the day pulled.
    assert _view_totals(any_warehouse, SUMMABLE_VIEW) == fresh
    assert any_warehouse.count(STATS_TABLE) == tidy_rows
    pull_campaigns(client, any_warehouse)
    assert primary_key(any_warehouse, CAMPAIGNS_TABLE) == ["campaign_id"]
    family = any_warehouse.query(
        f"SELECT is_parent, is_child, count(*) AS n FROM "
        f"{any_warehouse.table_name(CAMPAIGNS_TABLE).sql} GROUP BY is_parent, is_child"
    ).to_pylist()
    counts = {(r["is_parent"], r["is_child"]): r["n"] for r in family}
    # 3 periodic parents with 3, 2 and 2 runs; 15 campaigns on their own.
    assert counts == {(True, False): 3, (False, True): 7, (False, False): 15}


def test_a_table_whose_rows_break_the_key_is_named_not_altered(client, any_warehouse, seeded):
    rows = [{"campaign_id": "c1", "name": "one"}, {"campaign_id": "c1", "name": "again"}]
    schema = pa.schema([f for f in CAMPAIGNS_SCHEMA if f.name in ("campaign_id", "name")])
    any_warehouse.append(CAMPAIGNS_TABLE, pa.Table.from_pylist(rows, schema=schema))
    with pytest.raises(WarehouseError, match=r"cannot take \(campaign_id\): 1 key value"):
        pull_campaigns(client, any_warehouse)
    assert any_warehouse.count(CAMPAIGNS_TABLE) == 2


def test_channels_and_families_match_the_emulators_catalogue(
    moengage_emulator_server, client, any_warehouse
):
    pull_campaigns(client, any_warehouse)
    table = any_warehouse.table_name(CAMPAIGNS_TABLE).sql
    rows = any_warehouse.query(
        f"SELECT campaign_id, parent_id, is_parent, is_child, flow_name FROM {table}"
    ).to_pylist()
    catalogue = moengage_emulator_server.emulator.inspect.campaigns()
    children = defaultdict(int)
    for campaign in catalogue:
        if campaign["parent_id"]:
            children[campaign["parent_id"]] += 1
    by_id = {row["campaign_id"]: row for row in rows}
    for campaign in catalogue:
        row = by_id[campaign["campaign_id"]]
        assert row["is_child"] == (campaign["parent_id"] is not None)
        assert row["is_parent"] == (children[campaign["campaign_id"]] > 0)
        assert row["flow_name"] == (campaign["flow"][1] if campaign["flow"] else None)


def test_a_daily_table_whose_rows_repeat_its_key_stops_the_pull_with_the_reason(
    client, any_warehouse, seeded
):
    row = dict.fromkeys(STATS_DAILY_SCHEMA.names)
    key = (DAYS[0], "c1", "ANDROID", "all", "all", "X", "TOTAL")
    row.update(dict(zip(DAILY_KEY, key, strict=True)))
    row["in_campaign_total"] = True
    table = pa.Table.from_pylist([row, row], schema=STATS_DAILY_SCHEMA)
    any_warehouse.append(STATS_DAILY_TABLE, table)  # no key yet: the repeat goes in
    pull_campaigns(client, any_warehouse)
    with pytest.raises(StatsDayError) as raised:
        pull_stats(client, any_warehouse, DAYS[:1])
    message = str(raised.value)
    assert f"campaign stats for {DAYS[0]} failed: " in message
    assert "has no primary key and its rows cannot take (date, campaign_id, platform" in message
    assert f"{DAYS[0]} may be written in part" in message
    assert any_warehouse.count(STATS_DAILY_TABLE) == 2  # left as it was
