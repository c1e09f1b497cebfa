from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from moengage_pipelines.pull.stats.daily import DAILY_KEY, daily_rows
from moengage_pipelines.pull.stats.keys import (
    normalize_locale,
    normalize_platform,
    normalize_variation,
)
from moengage_pipelines.pull.stats.normalize import StatsContext, flatten_stats, parse_number

DAY = date(2025, 3, 4)
CONTEXT = StatsContext(DAY, "CLICK_THROUGH", "TOTAL", datetime(2025, 3, 5, 6, tzinfo=UTC))

# The documented sample answer (stats-report OpenAPI), with its nesting and spellings.
DOCUMENTED = {
    "66e933029ff25f3322d8279d": [
        {
            "platforms": {
                "android": {
                    "locales": {
                        "all_locales": {
                            "variations": {
                                "all_variations": {
                                    "performance_stats": {
                                        "attempted": 2,
                                        "sent": 2,
                                        "failed": 0,
                                        "impression": 2,
                                        "click": 4,
                                        "ctr": 200,
                                        "delivery_rate": 100,
                                        "sent_rate": 100,
                                        "failure_rate": 0,
                                    },
                                    "conversion_goal_stats": {
                                        "Goal 1": {"conversions": 0, "cvr": 0, "uplift": 0}
                                    },
                                    "delivery_funnel": {
                                        "reachable_users_in_segment": 2,
                                        "after_fc": 2,
                                        "sent": 2,
                                    },
                                    "failure_breakdown": {},
                                },
                                "campaign_control_group": {
                                    "conversion_goal_stats": {
                                        "Goal 1": {"conversions": 1, "cvr": 0, "uplift": 0}
                                    },
                                    "failure_breakdown": {
                                        "user_removed_due_to_campaing_control_group": 1
                                    },
                                },
                            }
                        }
                    }
                }
            }
        }
    ]
}


def _rows_by(rows, **match):
    return [r for r in rows if all(getattr(r, k) == v for k, v in match.items())]


def test_documented_sample_flattens_every_metric_with_raw_and_normalized_keys():
    rows, issues = flatten_stats(DOCUMENTED, CONTEXT)
    assert issues == []
    perf = _rows_by(rows, section="performance_stats")
    assert {r.metric: r.value for r in perf} == {
        "attempted": 2,
        "sent": 2,
        "failed": 0,
        "impression": 2,
        "click": 4,
        "ctr": 200,
        "delivery_rate": 100,
        "sent_rate": 100,
        "failure_rate": 0,
    }
    first = perf[0]
    assert (first.platform, first.platform_raw) == ("ANDROID", "android")
    assert (first.locale, first.locale_raw) == ("all", "all_locales")
    assert (first.variation, first.variation_raw) == ("all", "all_variations")
    assert (first.day, first.attribution_type, first.metric_type) == (DAY, "CLICK_THROUGH", "TOTAL")
    goal = _rows_by(rows, section="conversion_goal_stats:Goal 1", variation="all")
    assert {r.metric for r in goal} == {"conversions", "cvr", "uplift"}
    failure = _rows_by(rows, section="failure_breakdown")
    assert [(f.variation, f.metric, f.value) for f in failure] == [
        ("campaign_control_group", "user_removed_due_to_campaing_control_group", 1.0)
    ]
    # Every leaf value is one row: 9 + 3 + 3 + 0 + 3 + 1.
    assert len(rows) == 19


def test_spelling_variants_normalize_to_the_same_keys():
    assert normalize_platform("android") == ("ANDROID", True)
    assert normalize_platform("ANDROID") == ("ANDROID", True)
    assert normalize_platform("ALL_PLATFORMS") == ("ALL", True)
    assert normalize_platform("iOS") == ("IOS", True)
    assert normalize_platform("mweb") == ("MWEB", True)
    assert normalize_platform("smart tv") == ("SMART_TV", False)
    assert normalize_locale("all_locales") == normalize_locale("all_locale") == "all"
    assert normalize_locale("en-US") == "en-US"
    assert normalize_variation("control_group") == "campaign_control_group"
    assert normalize_variation("all_variation") == "all"
    assert normalize_variation("Variation 1") == "variation_1"


def test_unknown_keys_become_rows_and_unknown_platforms_are_reported():
    data = {
        "c1": [
            {
                "platforms": {
                    "ALL_PLATFORMS": {
                        "locales": {
                            "all_locale": {
                                "variations": {
                                    "all_variations": {
                                        "performance_stats": {
                                            "sent": "10",
                                            "adjusted_open": 3,
                                            "open_rate": "12.5%",
                                        },
                                        "new_section": {"widgets": 7, "nested": {"deep": 2}},
                                        "loose_metric": 5,
                                        "conversion_goal_stats": {
                                            "Buy": {
                                                "conversions": 2,
                                                "goal_name": "Buy",
                                                "revenue": 99.5,
                                            }
                                        },
                                    },
                                    "control_group": {"performance_stats": {"sent": None}},
                                }
                            }
                        }
                    },
                    "tv": {
                        "locales": {
                            "all_locales": {
                                "variations": {"all_variations": {"performance_stats": {"sent": 1}}}
                            }
                        }
                    },
                }
            }
        ]
    }
    rows, issues = flatten_stats(data, CONTEXT)
    by_metric = {(r.platform, r.section, r.metric, r.variation): r for r in rows}
    assert by_metric[("ALL", "performance_stats", "sent", "all")].value == 10.0
    assert by_metric[("ALL", "performance_stats", "adjusted_open", "all")].value == 3.0
    assert by_metric[("ALL", "performance_stats", "open_rate", "all")].value == 12.5
    assert by_metric[("ALL", "new_section", "widgets", "all")].value == 7.0
    assert by_metric[("ALL", "new_section:nested", "deep", "all")].value == 2.0
    assert by_metric[("ALL", "other", "loose_metric", "all")].value == 5.0
    name = by_metric[("ALL", "conversion_goal_stats:Buy", "goal_name", "all")]
    assert (name.value, name.value_text) == (None, "Buy")
    null = by_metric[("ALL", "performance_stats", "sent", "campaign_control_group")]
    assert (null.value, null.value_text, null.variation_raw) == (None, None, "control_group")
    assert by_metric[("TV", "performance_stats", "sent", "all")].platform_raw == "tv"
    assert [i.path for i in issues] == ["data/c1/0/platforms/tv"]
    assert "unexpected platform" in issues[0].reason


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"c1": [{"stats": {}}]}, "no 'platforms' object"),
        ({"c1": [{"platforms": {"android": {"variations": {}}}}]}, "no 'locales' object"),
        ({"c1": [{"platforms": {"android": {"locales": {"x": {}}}}}]}, "no 'variations' object"),
        ({"c1": "oops"}, "expected a list of entries"),
        (
            {"c1": [{"platforms": {"android": {"locales": {"x": {"variations": {"v": [1]}}}}}}]},
            "expected an object of sections",
        ),
    ],
)
def test_unreadable_shapes_are_reported_with_their_path_not_turned_into_numbers(data, fragment):
    rows, issues = flatten_stats(data, CONTEXT)
    assert rows == []
    assert len(issues) == 1 and fragment in issues[0].reason
    assert issues[0].path.startswith("data/c1")


def test_a_bare_object_instead_of_a_list_of_entries_is_read():
    rows, issues = flatten_stats({"c1": DOCUMENTED["66e933029ff25f3322d8279d"][0]}, CONTEXT)
    assert len(rows) == 19 and issues == []


def test_parse_number_keeps_text_and_never_guesses():
    assert parse_number(3) == (3.0, None)
    assert parse_number("1,234.5") == (1234.5, None)
    assert parse_number("45%") == (45.0, None)
    assert parse_number(True) == (1.0, None)
    assert parse_number(float("nan")) == (None, None)
    assert parse_number("n/a") == (None, "n/a")
    assert parse_number([1, 2]) == (None, "[1,2]")


def _variation(sent, clicks, impressions, conversions, revenue=0.0, delivered=None):
    performance = {"sent": sent, "click": clicks, "impression": impressions}
    if delivered is not None:
        performance["delivered"] = delivered
    return {
        "performance_stats": performance,
        "conversion_goal_stats": {
            "Goal 1": {"conversions": conversions, "revenue": revenue},
            "Goal 2": {"conversions": 1, "revenue": 1.0},
        },
    }


def test_daily_uses_aggregates_when_present_and_sums_parts_otherwise():
    data = {
        # Aggregate locale and variation present: the parts must not be added on top.
        "with_aggregates": [
            {
                "platforms": {
                    "android": {
                        "locales": {
                            "all_locales": {
                                "variations": {
                                    "all_variations": _variation(10, 4, 8, 2, 20.0, delivered=9),
                                    "variation_1": _variation(6, 3, 5, 1),
                                    "campaign_control_group": {
                                        "conversion_goal_stats": {"Goal 1": {"conversions": 5}}
                                    },
                                }
                            },
                            "en": {"variations": {"all_variations": _variation(7, 2, 6, 1)}},
                        }
                    }
                }
            }
        ],
        # No aggregates: locales and non-control variations are summed, controls left out.
        "parts_only": [
            {
                "platforms": {
                    "ios": {
                        "locales": {
                            "en": {
                                "variations": {
                                    "variation_1": _variation(3, 1, 2, 1),
                                    "variation_2": _variation(4, 2, 4, 0),
                                    "global_control_group": _variation(100, 100, 100, 100),
                                }
                            },
                            "fr": {"variations": {"variation_1": _variation(5, 1, 5, 2)}},
                        }
                    }
                }
            }
        ],
    }
    rows, issues = flatten_stats(data, CONTEXT)
    assert issues == []
    records = daily_rows(rows)
    keys = [tuple(r[k] for k in DAILY_KEY) for r in records]
    assert len(keys) == len(set(keys))  # one row per key of the grain

    def total(campaign, column):
        counted = [r for r in records if r["campaign_id"] == campaign and r["in_campaign_total"]]
        return sum(r[column] or 0 for r in counted)

    # Aggregate locale and variation present: only they count, parts and controls do not.
    counted = {
        (r["locale"], r["variation"])
        for r in records
        if r["campaign_id"] == "with_aggregates" and r["in_campaign_total"]
    }
    assert counted == {("all", "all")}
    agg = next(
        r for r in records if r["campaign_id"] == "with_aggregates" and r["in_campaign_total"]
    )
    assert agg["platform"] == "ANDROID"
    assert (agg["sent"], agg["clicks"], agg["impressions"], agg["delivered"]) == (10, 4, 8, 9)
    assert agg["conversions"] == 2  # the primary (first) goal
    assert agg["all_goals_conversions"] == 2 + 1
    assert agg["revenue"] == 20.0
    assert agg["ctr"] == pytest.approx(50.0)  # recomputed: MoEngage sent no ctr here
    assert agg["goals"] == 2
    control = next(r for r in records if r["variation"] == "campaign_control_group")
    assert control["conversions"] == 5 and not control["in_campaign_total"]
    # No aggregates: each locale and every non-control variation counts, controls do not.
    assert (total("parts_only", "sent"), total("parts_only", "clicks")) == (3 + 4 + 5, 1 + 2 + 1)
    assert total("parts_only", "conversions") == 1 + 0 + 2
    assert {r["platform"] for r in records if r["campaign_id"] == "parts_only"} == {"iOS"}
    gcg = next(r for r in records if r["variation"] == "global_control_group")
    assert gcg["conversions"] == 100 and not gcg["in_campaign_total"]
    assert all(r["delivered"] is None for r in records if r["campaign_id"] == "parts_only")
    assert {r["date"] for r in records} == {DAY}


def test_daily_keeps_moengages_rates_and_spells_platforms_as_pushed_events_do():
    performance = {"sent": 10, "delivered": 8, "click": 2, "ctr": 25.0, "delivery_rate": 80.0}
    variations = {"variations": {"all_variations": {"performance_stats": performance}}}
    entry = {"platforms": {"UNKNOWN": {"locales": {"all_locales": variations}}}}
    push = {
        "platforms": {
            "ALL_PLATFORMS": {"locales": {"all_locales": variations}},
            "ios": {"locales": {"all_locales": variations}},
            "android": {"locales": {"all_locales": variations}},
        }
    }
    aggregate_only = {"platforms": {"ALL_PLATFORMS": {"locales": {"all_locales": variations}}}}
    data = {"mail": [entry], "push": [push], "total": [aggregate_only]}
    rows, issues = flatten_stats(data, CONTEXT)
    assert issues == []
    records = daily_rows(rows, {"mail": "EMAIL", "push": "PUSH"})
    mail = next(r for r in records if r["campaign_id"] == "mail")
    # MoEngage's ctr (clicks / delivered for email) is kept; email has no impressions.
    assert (mail["platform"], mail["ctr"], mail["delivery_rate"]) == ("EMAIL", 25.0, 80.0)
    assert mail["in_campaign_total"]
    push_rows = {
        r["platform"]: r["in_campaign_total"] for r in records if r["campaign_id"] == "push"
    }
    # The all-platforms aggregate is kept but not counted beside the device platforms.
    assert push_rows == {"ALL": False, "iOS": True, "ANDROID": True}
    # The aggregate alone is the campaign's total.
    assert [
        (r["platform"], r["in_campaign_total"]) for r in records if r["campaign_id"] == "total"
    ] == [("ALL", True)]
    alone = daily_rows(rows)  # without channels: MoEngage's "unknown" platform
    assert next(r for r in alone if r["campaign_id"] == "mail")["platform"] == "unknown"
