from __future__ import annotations

import math
from datetime import date, timedelta

import pytest

from moengage_pipelines.emulator.pytest_plugin import client_for
from moengage_pipelines.pull.campaigns.load import pull_campaigns
from moengage_pipelines.pull.errors import (
    ResponseShapeError,
    StatsDayError,
    StatsNotEnabledError,
    StatsWindowError,
)
from moengage_pipelines.pull.stats.fetch import fetch_day, iter_stats_pages
from moengage_pipelines.pull.stats.load import pull_stats
from moengage_pipelines.pull.stats.request import StatsOptions
from moengage_pipelines.pull.stats.selection import stats_days
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE, STATS_TABLE
from tests.pull import activity
from tests.pull.activity import DAYS


def _stats_requests(server) -> int:
    return server.emulator.inspect.counters().get("campaign_stats", {}).get("requests", 0)


def _daily(warehouse) -> dict[tuple, dict]:
    """The all-locales, all-variations rows, by (date, campaign, platform)."""
    rows = warehouse.query(f"SELECT * FROM {STATS_DAILY_TABLE}").to_pylist()
    chosen = [r for r in rows if r["in_campaign_total"]]
    assert all((r["locale"], r["variation"]) == ("all", "all") for r in chosen)
    return {(r["date"], r["campaign_id"], r["platform"]): r for r in chosen}


# The emulator's platform keys, spelled as pushed events spell platforms; email and SMS
# numbers come under "unknown" and carry their channel.
_PUSH_SPELLING = {"android": "ANDROID", "ios": "iOS", "web": "web"}


def _platform(campaign: dict, key: str) -> str:
    return _PUSH_SPELLING.get(key) or campaign["channel"]


def test_stats_match_what_the_emulator_derives_from_the_events_sent(
    moengage_emulator_server, client, warehouse, seeded
):
    customers, sent = seeded
    campaigns = moengage_emulator_server.emulator.inspect.campaigns()
    pull_campaigns(client, warehouse)
    report = pull_stats(client, warehouse, DAYS)
    assert [day.day for day in report.days] == list(DAYS)
    assert report.issues == []
    daily = _daily(warehouse)
    checked = 0
    for campaign in campaigns:
        for platform in activity.stats_platforms(campaign):
            for day in DAYS:
                expected = activity.expected_counts(campaign, platform, day, sent, customers)
                row = daily[(day, campaign["campaign_id"], _platform(campaign, platform))]
                for column in ("sent", "delivered", "impressions", "clicks", "conversions"):
                    assert row[column] == expected[column], (
                        campaign["name"],
                        platform,
                        day,
                        column,
                    )
                assert row["revenue"] == pytest.approx(expected["revenue"])
                checked += 1
    assert checked == len(daily)  # every wide row was checked, none is extra
    # Day totals count each parent once and leave its runs (children) out.
    for summary in report.days:
        for metric in ("sent", "delivered", "clicks", "conversions"):
            expected_total = sum(
                activity.expected_counts(c, p, summary.day, sent, customers)[metric]
                for c in campaigns
                if c["parent_id"] is None
                for p in activity.stats_platforms(c)
            )
            assert summary.totals[metric] == expected_total, (summary.day, metric)
    # Something actually happened, so the comparison is not between zeros.
    assert sum(row["clicks"] for row in daily.values()) > 0
    assert sum(row["conversions"] for row in daily.values()) > 0
    tidy = warehouse.query(
        f"SELECT DISTINCT platform_raw, locale_raw, variation_raw FROM {STATS_TABLE}"
    ).to_pylist()
    assert {r["locale_raw"] for r in tidy} == {"all_locales"}
    assert {r["variation_raw"] for r in tidy} == {
        "all_variations",
        "campaign_control_group",
        "global_control_group",
    }


def test_25_campaigns_take_3_requests_a_day(moengage_emulator_server, client, warehouse, seeded):
    pull_campaigns(client, warehouse)
    before = _stats_requests(moengage_emulator_server)
    report = pull_stats(client, warehouse, DAYS[:2])
    assert [day.requests for day in report.days] == [3, 3]
    assert [day.campaigns_asked for day in report.days] == [25, 25]
    assert _stats_requests(moengage_emulator_server) - before == 6


def test_without_ids_every_active_campaign_is_paged_by_total_pages(
    moengage_emulator_server, client, warehouse, seeded
):
    customers, sent = seeded
    day = DAYS[1]
    campaigns = moengage_emulator_server.emulator.inspect.campaigns()
    active = {
        c["campaign_id"]
        for c in campaigns
        if any(
            activity.expected_counts(c, p, day, sent, customers)["attempted"]
            for p in activity.stats_platforms(c)
        )
    }
    assert len(active) > 10  # more than one page
    fetched = fetch_day(client, day, None)
    assert fetched.campaigns == active
    assert (
        fetched.requests == math.ceil(len(active) / 10) == _stats_requests(moengage_emulator_server)
    )
    assert fetched.issues == []


def test_every_attribution_and_metric_type_asked_is_stored_apart(
    moengage_emulator_server, client, warehouse, seeded
):
    customers, sent = seeded
    pull_campaigns(client, warehouse)
    options = StatsOptions(
        attribution_types=("CLICK_THROUGH", "VIEW_THROUGH"), metric_types=("TOTAL",)
    )
    report = pull_stats(client, warehouse, DAYS[:1], options=options)
    assert report.days[0].requests == 6
    rows = warehouse.query(
        f"SELECT campaign_id, platform, attribution_type, conversions FROM {STATS_DAILY_TABLE} "
        "WHERE in_campaign_total"
    ).to_pylist()
    by_key = {
        (r["campaign_id"], r["platform"], r["attribution_type"]): r["conversions"] for r in rows
    }
    for campaign in moengage_emulator_server.emulator.inspect.campaigns():
        for platform in activity.stats_platforms(campaign):
            for attribution in ("CLICK_THROUGH", "VIEW_THROUGH"):
                expected = activity.expected_counts(
                    campaign, platform, DAYS[0], sent, customers, attribution
                )["conversions"]
                key = (campaign["campaign_id"], _platform(campaign, platform), attribution)
                assert by_key[key] == expected


def test_a_re_pull_replaces_a_days_rows_with_the_restated_numbers(
    moengage_emulator_server, client, warehouse, seeded
):
    customers, sent = seeded
    pull_campaigns(client, warehouse)
    pull_stats(client, warehouse, DAYS)
    counts = (warehouse.count(STATS_TABLE), warehouse.count(STATS_DAILY_TABLE))
    # Late events for the last day: its conversions restate.
    late = activity.events(DAYS[-1:], salt=1)
    activity.send(client, customers, late)
    pull_stats(client, warehouse, stats_days(DAYS[-1], 3, today=DAYS[-1]))
    assert (warehouse.count(STATS_TABLE), warehouse.count(STATS_DAILY_TABLE)) == counts
    daily = _daily(warehouse)
    restated = 0
    for campaign in moengage_emulator_server.emulator.inspect.campaigns():
        for platform in activity.stats_platforms(campaign):
            for day in DAYS:
                expected = activity.expected_counts(
                    campaign, platform, day, [*sent, *late], customers
                )
                row = daily[(day, campaign["campaign_id"], _platform(campaign, platform))]
                assert (row["sent"], row["conversions"]) == (
                    expected["sent"],
                    expected["conversions"],
                )
                before = activity.expected_counts(campaign, platform, day, sent, customers)
                restated += expected["conversions"] != before["conversions"]
    assert restated > 0  # the late events did change numbers, and the table shows the new ones


def test_explicit_ids_replace_only_those_campaigns(
    moengage_emulator_server, client, warehouse, seeded
):
    pull_campaigns(client, warehouse)
    pull_stats(client, warehouse, DAYS[:1])
    total = warehouse.count(STATS_DAILY_TABLE)
    one = moengage_emulator_server.emulator.inspect.campaigns()[0]["campaign_id"]
    report = pull_stats(client, warehouse, DAYS[:1], campaigns=[one])
    assert report.days[0].requests == 1
    assert warehouse.count(STATS_DAILY_TABLE) == total


def test_a_range_longer_than_30_days_is_refused_before_sending(moengage_emulator_server, client):
    start = date(2025, 1, 1)
    with pytest.raises(StatsWindowError, match="at most 30"):
        list(
            iter_stats_pages(
                client,
                start=start,
                end=start + timedelta(days=31),
                attribution_type="CLICK_THROUGH",
                metric_type="TOTAL",
            )
        )
    assert _stats_requests(moengage_emulator_server) == 0
    # Exactly 30 days is allowed, and MoEngage's emulator agrees.
    pages = list(
        iter_stats_pages(
            client,
            start=start,
            end=start + timedelta(days=30),
            attribution_type="CLICK_THROUGH",
            metric_type="TOTAL",
        )
    )
    assert len(pages) == 1 and _stats_requests(moengage_emulator_server) == 1


def test_403_says_stats_are_not_enabled_and_writes_nothing(moengage_emulator_server, warehouse):
    # The data key on the stats endpoint: a valid key without access, answered 403.
    wrong = moengage_emulator_server.emulator.settings.data_api_key
    with (
        client_for(moengage_emulator_server, campaign_api_key=wrong) as denied,
        pytest.raises(StatsDayError, match="403") as raised,
    ):
        pull_stats(denied, warehouse, DAYS[:1], campaigns="active")
    assert isinstance(raised.value.__cause__, StatsNotEnabledError)
    assert not raised.value.retryable  # retrying gives the same answer
    assert wrong not in str(raised.value)
    assert not warehouse.table_exists(STATS_TABLE)


class _DropsData:
    """The real emulator behind a proxy that loses the ``data`` object of the answer."""

    def __init__(self, client):
        self.client = client

    def campaign_stats(self, payload):
        answer = self.client.campaign_stats(payload)
        answer.pop("data")
        return answer


class _IgnoresOffset:
    """The real emulator behind a proxy that always asks for the first page."""

    def __init__(self, client):
        self.client = client

    def campaign_stats(self, payload):
        return self.client.campaign_stats({**payload, "offset": 0})


def test_an_answer_without_data_is_an_error_not_an_empty_day(
    moengage_emulator_server, client, warehouse, seeded
):
    with pytest.raises(StatsDayError, match="no 'data' object") as raised:
        pull_stats(_DropsData(client), warehouse, DAYS[:1], campaigns="active")
    assert isinstance(raised.value.__cause__, ResponseShapeError)
    assert not warehouse.table_exists(STATS_TABLE)


def test_a_server_ignoring_offset_never_double_counts(moengage_emulator_server, client, seeded):
    honest = fetch_day(client, DAYS[1], None)
    repeated = fetch_day(_IgnoresOffset(client), DAYS[1], None)
    assert len(repeated.campaigns) == 10 < len(honest.campaigns)
    assert repeated.requests == 2  # stopped at the first repeated page
    assert any("ignore 'offset'" in issue.reason for issue in repeated.issues)
    first_page = {r.campaign_id for r in repeated.rows}
    assert len(repeated.rows) == sum(1 for r in honest.rows if r.campaign_id in first_page)


def test_lookback_days():
    assert stats_days(date(2025, 3, 5), 3, today=date(2025, 3, 6)) == [
        date(2025, 3, 3),
        date(2025, 3, 4),
        date(2025, 3, 5),
    ]
    assert stats_days(date(2025, 3, 6), 1, start=date(2025, 3, 4), today=date(2025, 3, 5)) == [
        date(2025, 3, 4),
        date(2025, 3, 5),
    ]


def test_without_pulled_campaigns_the_pull_asks_for_active_campaigns_and_says_so(
    moengage_emulator_server, client, warehouse, seeded
):
    report = pull_stats(client, warehouse, DAYS[1:2])
    assert report.days[0].campaigns_asked is None
    assert report.days[0].campaigns > 10
    assert "moengage_campaigns is missing or empty" in report.notes[0]
    assert report.issues == []


class _RefusesAfter:
    """The real emulator, asked for a limit it refuses (400) from the given day on."""

    def __init__(self, client, day):
        self.client = client
        self.day = day

    def campaign_stats(self, payload):
        if payload["start_date"] >= self.day.isoformat():
            payload = {**payload, "limit": 11}  # MoEngage allows 10: answered 400
        return self.client.campaign_stats(payload)


def test_a_failure_part_way_names_the_day_and_keeps_the_committed_days(
    moengage_emulator_server, client, warehouse, seeded
):
    pull_campaigns(client, warehouse)
    with pytest.raises(StatsDayError) as raised:
        pull_stats(_RefusesAfter(client, DAYS[1]), warehouse, DAYS)
    error = raised.value
    assert (error.day, error.committed, error.not_written) == (DAYS[1], [DAYS[0]], [*DAYS[1:]])
    assert not error.retryable
    message = str(error)
    assert message.startswith(f"campaign stats for {DAYS[1]} failed: MoEngage rejected ")
    assert f"Nothing of {DAYS[1]} was written. Committed before the failure: {DAYS[0]}." in message
    assert f"Not written: {DAYS[1]}, {DAYS[2]}. Re-run from {DAYS[1]}" in message
    assert error.report.failed_day == DAYS[1] and len(error.report.days) == 1
    written = warehouse.query(f"SELECT DISTINCT date FROM {STATS_DAILY_TABLE}")
    assert written.column(0).to_pylist() == [DAYS[0]]
