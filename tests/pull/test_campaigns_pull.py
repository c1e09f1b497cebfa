from __future__ import annotations

from datetime import UTC, datetime

import pytest

from moengage_pipelines.pull.campaigns.fetch import CampaignsOptions, fetch_campaigns
from moengage_pipelines.pull.campaigns.load import pull_campaigns
from moengage_pipelines.pull.campaigns.normalize import parse_timestamp
from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_TABLE


def _search_requests(server) -> int:
    return server.emulator.inspect.counters().get("campaigns_search", {}).get("requests", 0)


def test_campaigns_page_until_a_short_page_and_keeps_every_campaign(
    moengage_emulator_server, client, warehouse
):
    expected = moengage_emulator_server.emulator.inspect.campaigns()
    report = pull_campaigns(client, warehouse)
    # 25 campaigns at 15 a page: a full page, then a short one that ends the paging.
    assert len(expected) == 25
    assert (report.campaigns, report.pages, report.stop_reason) == (25, 2, "short_page")
    assert _search_requests(moengage_emulator_server) == 2
    rows = {
        row["campaign_id"]: row
        for row in warehouse.query(f"SELECT * FROM {CAMPAIGNS_TABLE}").to_pylist()
    }
    assert set(rows) == {campaign["campaign_id"] for campaign in expected}
    for campaign in expected:
        row = rows[campaign["campaign_id"]]
        assert row["name"] == campaign["name"]
        assert row["channel"] == campaign["channel"]
        assert row["delivery_type"] == campaign["delivery_type"]
        assert row["status"] == campaign["status"]  # upper case, though the API says "Active"
        assert row["status_raw"] == campaign["status"].title()
        assert row["parent_id"] == campaign["parent_id"]
        assert list(row["tags"]) == campaign["tags"]
        assert row["created_at"] == parse_timestamp(campaign["created_at"])
        if campaign["channel"] == "PUSH":
            assert list(row["platforms"]) == campaign["platforms"]
        assert campaign["campaign_id"] in row["raw_json"]
    assert report.by_channel == {
        channel: sum(c["channel"] == channel for c in expected)
        for channel in ("PUSH", "EMAIL", "SMS")
    }
    assert report.issues == []


def test_smaller_pages_end_on_an_empty_page(moengage_emulator_server, client):
    pull = fetch_campaigns(client, CampaignsOptions(page_size=5))
    # 25 = 5 full pages; only the empty 6th page proves there is nothing more.
    assert (len(pull.campaigns), pull.pages, pull.stop_reason) == (25, 6, "short_page")
    assert _search_requests(moengage_emulator_server) == 6


class _IgnoresPage:
    """The real emulator behind a proxy that always asks for page 1, like a server
    that ignores ``page``."""

    def __init__(self, client):
        self.client = client

    def search_campaigns(self, payload):
        return self.client.search_campaigns({**payload, "page": 1})


def test_a_server_ignoring_page_stops_the_paging_without_duplicates(
    moengage_emulator_server, client
):
    pull = fetch_campaigns(_IgnoresPage(client), CampaignsOptions(page_size=10))
    assert pull.stop_reason == "repeated_page"
    assert len(pull.campaigns) == 10
    assert len({c["campaign_id"] for c in pull.campaigns}) == 10
    assert pull.pages == 2 and "ignore 'page'" in pull.issues[0].reason


def test_a_filtered_pull_replaces_only_its_campaigns(moengage_emulator_server, client, warehouse):
    pull_campaigns(client, warehouse)
    earlier = warehouse.count(CAMPAIGNS_TABLE)
    report = pull_campaigns(client, warehouse, CampaignsOptions(channels=("SMS",)))
    assert report.merged and report.by_channel == {"SMS": report.campaigns}
    assert warehouse.count(CAMPAIGNS_TABLE) == earlier
    without_archived = pull_campaigns(
        client, warehouse, CampaignsOptions(include_archive_campaigns=False)
    )
    # Unfiltered by channel: the table now holds exactly the answer.
    assert warehouse.count(CAMPAIGNS_TABLE) == without_archived.campaigns == 23


def test_only_a_search_that_leaves_campaigns_out_is_filtered():
    assert not CampaignsOptions().filtered
    assert not CampaignsOptions(channels=("SMS", "PUSH", "EMAIL")).filtered
    assert CampaignsOptions(channels=("SMS",)).filtered
    assert CampaignsOptions(extra_filters={"tags": ["sale"]}).filtered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-07-04 08:00:54.847000", datetime(2024, 7, 4, 8, 0, 54, 847000, tzinfo=UTC)),
        ("2024-07-04 20:32:00", datetime(2024, 7, 4, 20, 32, tzinfo=UTC)),
        ("2024-11-28T12:18:00", datetime(2024, 11, 28, 12, 18, tzinfo=UTC)),
        ("2024-11-28T12:18:00+05:30", datetime(2024, 11, 28, 6, 48, tzinfo=UTC)),
    ],
)
def test_campaign_timestamps_are_read_as_utc(text, expected):
    assert parse_timestamp(text) == expected
