"""The campaign-stats formula keeps its delivery funnel monotone for any activity."""

from __future__ import annotations

from datetime import date

from hypothesis import example, given, settings
from hypothesis import strategies as st

from moengage_pipelines.emulator.campaign_catalog import catalogue
from moengage_pipelines.emulator.campaign_stats import Activity, campaign_stats

WORKSPACE = "FUNNEL_WS"
FIRST, LAST = date(2025, 3, 1), date(2025, 3, 3)
DAYS = ["2025-03-01", "2025-03-02", "2025-03-03"]
PLATFORMS = ["android", "ios", "web", "unknown"]
ACTIONS = ["Purchase", "App Opened", "Login", "Product Viewed"]
CUSTOMERS = [f"c{n}" for n in range(24)]
ATTRIBUTIONS = ("VIEW_THROUGH", "CLICK_THROUGH")
METRICS = ("TOTAL", "UNIQUE")
# Rates that are shares of a count above them in the funnel (cvr counts events, so it is not).
RATES = ("ctr", "delivery_rate", "sent_rate", "failure_rate", "open_rate", "ctor", "bounce_rate")

profiles = st.fixed_dictionaries(
    {c: st.tuples(st.booleans(), st.booleans(), st.booleans()) for c in CUSTOMERS}
)
activity_rows = st.dictionaries(
    st.tuples(
        st.sampled_from(DAYS),
        st.sampled_from(PLATFORMS),
        st.sampled_from(CUSTOMERS),
        st.sampled_from(ACTIONS),
    ),
    st.tuples(st.integers(1, 4), st.sampled_from([0.0, 9.5, 20.0])),
    max_size=120,
)


def rows_of(events: dict, people: dict) -> list[tuple]:
    """``Store.activity`` rows: one per (day, platform, customer, action)."""
    return [
        (day, platform, customer, action, count, revenue, *people[customer])
        for (day, platform, customer, action), (count, revenue) in events.items()
    ]


def check_funnel(channel: str, attribution: str, metric: str, variation: dict) -> None:
    counts = variation["performance_stats"]
    assert all(value >= 0 for value in counts.values())
    assert counts["eligible_users"] == counts["attempted"]
    assert counts["attempted"] >= counts["sent"] >= counts["delivered"] >= counts["click"]
    assert counts["failed"] == counts["attempted"] - counts["sent"]
    if channel == "PUSH":
        assert counts["delivered"] == counts["sent"] >= counts["impression"] >= counts["click"]
        assert variation["delivery_funnel"]["impressions"] == counts["impression"]
    if channel == "EMAIL":
        assert counts["delivered"] >= counts["opened"] >= counts["click"]
        assert counts["sent"] == counts["delivered"] + counts["bounced"]
        assert counts["bounced"] == counts["hard_bounce"] + counts["soft_bounce"]
    for rate in RATES:
        assert 0 <= counts[rate] <= 100, (rate, counts)
    (goal,) = variation["conversion_goal_stats"].values()
    # Converting users are attributed users: reached ones, and clickers for click attribution.
    assert goal["unique"] <= counts["attempted"]
    if attribution == "CLICK_THROUGH":
        assert goal["unique"] <= counts["click"]
    assert goal["conversions"] == (goal["unique"] if metric == "UNIQUE" else goal["total"])


# Twelve users who each clicked (two events) on one day: more clickers than the old formula
# had impressions (push) or deliveries (email) for them.
ALL_CLICK = {("2025-03-01", "android", c, "App Opened"): (2, 0.0) for c in CUSTOMERS[:12]}
EVERYONE = dict.fromkeys(CUSTOMERS, (True, True, True))


@settings(max_examples=60, deadline=None)
@given(events=activity_rows, people=profiles)
@example(events=ALL_CLICK, people=EVERYONE)
def test_the_funnel_is_monotone_for_any_activity(events, people):
    activity = Activity(rows_of(events, people))
    for campaign in catalogue(WORKSPACE):
        for attribution in ATTRIBUTIONS:
            for metric in METRICS:
                stats = campaign_stats(
                    campaign, FIRST, LAST, activity, attribution=attribution, metric=metric
                )
                for entry in stats["platforms"].values():
                    variations = entry["locales"]["all_locales"]["variations"]
                    check_funnel(
                        campaign.channel, attribution, metric, variations["all_variations"]
                    )


def test_clickers_are_never_lost_to_failures_bounces_or_unseen_impressions():
    activity = Activity(rows_of(ALL_CLICK, EVERYONE))
    by_name = {c.name: c for c in catalogue(WORKSPACE)}

    def counts(name: str, platform: str) -> dict:
        stats = campaign_stats(
            by_name[name], FIRST, FIRST, activity, attribution="VIEW_THROUGH", metric="TOTAL"
        )
        variations = stats["platforms"][platform]["locales"]["all_locales"]["variations"]
        return variations["all_variations"]["performance_stats"]

    push = counts("Welcome Push", "android")
    assert (push["attempted"], push["sent"], push["impression"], push["click"]) == (12, 12, 12, 12)
    assert push["ctr"] == 100
    email = counts("Win-back Email", "unknown")
    assert (email["sent"], email["bounced"], email["delivered"], email["opened"]) == (12, 0, 12, 12)
    assert email["open_rate"] == 100
