"""docs/dbt/sources.yml describes the pulled tables as they are, and its key tests hold."""

from __future__ import annotations

from pathlib import Path

import yaml

from moengage_pipelines.pull.campaigns.load import pull_campaigns
from moengage_pipelines.pull.dbt_sources import render_sources
from moengage_pipelines.pull.stats.load import pull_stats
from tests.pull.activity import DAYS

SOURCES = Path(__file__).resolve().parents[2] / "docs" / "dbt" / "sources.yml"


def test_the_documented_sources_are_the_generated_ones():
    assert SOURCES.read_text() == render_sources()


def _failures(warehouse, table: str, test, column: str | None) -> int:
    """Rows (or repeated keys) failing one dbt test, run as the SQL dbt would run."""
    name = warehouse.table_name(table).sql
    if test == "not_null":
        sql = f'SELECT count(*) FROM {name} WHERE "{column}" IS NULL'
    else:
        expression = f'"{column}"' if test == "unique" else test["unique"]["column_name"]
        sql = (
            f"SELECT count(*) FROM (SELECT {expression} AS k FROM {name} "
            "GROUP BY 1 HAVING count(*) > 1) AS repeated"
        )
    return warehouse.query(sql).column(0)[0].as_py()


def test_every_table_column_and_key_test_matches_the_warehouse(client, any_warehouse, seeded):
    pull_campaigns(client, any_warehouse)
    pull_stats(client, any_warehouse, DAYS)
    pull_stats(client, any_warehouse, DAYS[-1:])  # a re-pull: keys must still hold
    [source] = yaml.safe_load(SOURCES.read_text())["sources"]
    checked = 0
    for table in source["tables"]:
        documented = [column["name"] for column in table["columns"]]
        assert documented == any_warehouse.columns(table["name"]), table["name"]
        for test in table.get("data_tests", []):
            assert _failures(any_warehouse, table["name"], test, None) == 0
            checked += 1
        for column in table["columns"]:
            for test in column.get("data_tests", []):
                assert _failures(any_warehouse, table["name"], test, column["name"]) == 0
                checked += 1
    # campaign_id: not_null + unique; the daily key: 7 not_null + one unique expression.
    assert checked == 2 + 7 + 1
    assert any_warehouse.count(source["tables"][2]["name"]) > 0
