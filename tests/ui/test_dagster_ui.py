"""The Dagster UI in a real browser: the lineage, and a backfill launched by clicking.

``make ui-test`` runs these (not ``make test``): they start ``make dev`` on a free port and
drive Debian's Chromium with Playwright.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from sample_data.generate import DEMO_DAY, sample_files
from tests.ui.server import DagsterUI

pytestmark = pytest.mark.ui
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "lineage.png"
EVENTS = ["moengage", "events"]
# Three days before the demo day: every row is valid, so each day's count is its row count.
DAYS = [DEMO_DAY - timedelta(days=n) for n in (3, 2, 1)]
BACKFILL_SECONDS = 150

ASSET_GRAPH = "{ assetNodes { assetKey { path } groupName dependencyKeys { path } } }"
BACKFILLS = """
{ partitionBackfillsOrError(limit: 5) {
    ... on PartitionBackfills { results { id status partitionNames } } } }
"""
BACKFILL_RUNS = """
query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
    ... on Runs { results { runId status } } } }
"""
MATERIALIZATIONS = """
query Events($key: AssetKeyInput!, $partitions: [String!]) {
  assetNodeOrError(assetKey: $key) { ... on AssetNode {
    assetMaterializations(partitions: $partitions) {
      partition runId
      metadataEntries { label
        ... on IntMetadataEntry { intValue }
        ... on TextMetadataEntry { text } } } } } }
"""


def _group_edges(ui: DagsterUI) -> set[tuple[str, str]]:
    nodes = ui.graphql(ASSET_GRAPH)["assetNodes"]
    group = {"/".join(n["assetKey"]["path"]): n["groupName"] for n in nodes}
    return {
        (group["/".join(dep["path"])], n["groupName"])
        for n in nodes
        for dep in n["dependencyKeys"]
        if group["/".join(dep["path"])] != n["groupName"]
    }


def test_global_lineage_runs_warehouse_to_moengage_to_reports(page, dagster_ui) -> None:
    assert _group_edges(dagster_ui) == {
        ("warehouse", "moengage"),
        ("moengage", "moengage_reports"),
    }
    page.get_by_text("Global asset lineage").wait_for()
    graph = page.locator("[data-testid='asset-graph'], svg").first
    graph.wait_for()
    for group in ("warehouse", "moengage", "moengage_reports"):
        assert page.get_by_text(group, exact=True).count() >= 2, group  # sidebar and graph
    # Alt+E: the graph's "Expand all groups" shortcut, so the picture shows every asset.
    page.keyboard.press("Alt+e")
    page.get_by_text("campaign_report_files", exact=True).first.wait_for()
    page.wait_for_timeout(1_000)  # let the graph finish its layout animation
    page.screenshot(path=str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


def _expected_rows() -> Counter:
    loaded = pq.read_table(sample_files()["events"], columns=["loaded_at"]).column(0)
    return Counter(value.as_py().date() for value in loaded)


def _wait_for_backfill(ui: DagsterUI, partitions: list[str]) -> dict:
    deadline = time.monotonic() + BACKFILL_SECONDS
    while time.monotonic() < deadline:
        results = ui.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"]
        mine = [b for b in results if sorted(b["partitionNames"] or []) == partitions]
        if mine and mine[0]["status"] not in ("REQUESTED", "CANCELING", "FAILING"):
            return mine[0]
        time.sleep(2)
    raise AssertionError(f"the backfill did not finish in {BACKFILL_SECONDS} s")


def test_a_backfill_launched_by_clicking_gives_each_partition_its_own_figures(
    page, dagster_ui
) -> None:
    keys = [day.isoformat() for day in DAYS]
    page.goto(f"{dagster_ui.url}/assets/{'/'.join(EVENTS)}")
    page.get_by_role("button", name="Materialize…").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Launch runs to materialize").wait_for()
    show_all = dialog.get_by_text("Show all partitions")
    if show_all.count():
        show_all.click()
    selection = dialog.get_by_placeholder("No matching partitions")
    if not selection.count():
        selection = dialog.locator("input[type='text']").first
    selection.fill(f"[{keys[0]}...{keys[-1]}]")
    selection.press("Enter")
    dialog.get_by_text("3 partitions").wait_for()
    dialog.get_by_role("button", name="Launch backfill").click()

    backfill = _wait_for_backfill(dagster_ui, keys)
    runs = dagster_ui.graphql(
        BACKFILL_RUNS, filter={"tags": [{"key": "dagster/backfill", "value": backfill["id"]}]}
    )["runsOrError"]["results"]
    assert runs and all(run["status"] == "SUCCESS" for run in runs), runs
    assert backfill["status"] in ("COMPLETED", "COMPLETED_SUCCESS"), backfill

    node = dagster_ui.graphql(
        MATERIALIZATIONS, key={"path": EVENTS}, partitions=keys
    )["assetNodeOrError"]
    by_partition = {}
    for event in node["assetMaterializations"]:
        metadata = {entry["label"]: entry for entry in event["metadataEntries"]}
        by_partition[event["partition"]] = metadata
    assert sorted(by_partition) == keys
    expected = _expected_rows()
    for key in keys:
        metadata = by_partition[key]
        # Each partition reports its own day's rows, not the whole range's.
        assert metadata["dagster/row_count"]["intValue"] == expected[date.fromisoformat(key)]
        if "partition" in metadata:
            assert metadata["partition"]["text"] == key
    counts = {by_partition[key]["dagster/row_count"]["intValue"] for key in keys}
    assert len(counts) == len(keys), "the sample days have different counts"
