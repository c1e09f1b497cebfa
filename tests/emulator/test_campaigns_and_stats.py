"""Campaign search and campaign stats derived from what the emulator received."""

from __future__ import annotations

from datetime import date

import pytest

from tests.emulator.conftest import WORKSPACE, action, customer, event, transition

SEARCH = "/core-services/v1/campaigns/search"
STATS = "/core-services/v1/campaign-stats"
D1, D2 = "2024-03-01", "2024-03-02"


def search(client, **body):
    return client.post(SEARCH, json={"request_id": "r1", "limit": 15, "page": 1, **body})


def by_name(emulator) -> dict[str, dict]:
    return {c["name"]: c for c in emulator.inspect.campaigns()}


# -- search ---------------------------------------------------------------------------------------


def test_search_pages_a_bare_array(moengage_emulator, campaigns):
    first = search(campaigns)
    assert first.status_code == 200
    assert isinstance(first.json(), list)
    assert len(first.json()) == 15
    second = search(campaigns, page=2).json()
    assert len(second) == 1  # 16 parents that are not archived
    ids = [c["campaign_id"] for c in first.json() + second]
    assert len(set(ids)) == 16
    assert search(campaigns, page=3).json() == []


def test_search_item_shape(moengage_emulator, campaigns):
    items = {c["basic_details"]["name"]: c for c in search(campaigns).json()}
    push = items["Welcome Push"]
    assert push["status"] == "Sent"
    assert push["channel"] == "PUSH"
    assert push["campaign_delivery_type"] == "ONE_TIME"
    assert push["basic_details"]["platforms"] == ["ANDROID", "IOS"]
    assert len(push["campaign_id"]) == 24
    assert push["created_at"][:4] == "2024"
    assert "parent_id" not in push
    email = items["Order Confirmation"]
    assert email["connector"] == {"connector_type": "SENDGRID", "connector_name": "default"}
    assert "sender_name" in items["Festive Sale SMS"]


def test_search_children_and_archived(moengage_emulator, campaigns):
    with_children = [
        c for p in (1, 2) for c in search(campaigns, include_child_campaigns=True, page=p).json()
    ]
    children = [c for c in with_children if "parent_id" in c]
    assert len(children) == 7
    parents = {c["campaign_id"]: c["basic_details"]["name"] for c in with_children}
    assert {parents[c["parent_id"]] for c in children} == {
        "Daily Deals Push",
        "Monthly Newsletter",
        "Weekend Offer SMS",
    }
    flow = next(c for c in with_children if c["basic_details"]["name"] == "Cart Abandonment Push")
    assert flow["flow_name"] == "Cart Recovery Flow"
    archived = [
        c for p in (1, 2) for c in search(campaigns, include_archive_campaigns=True, page=p).json()
    ]
    assert len(archived) == 18
    assert sum(c["status"] == "Archived" for c in archived) == 2


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"channels": ["SMS"]}, {"OTP Reminder SMS", "Weekend Offer SMS", "Festive Sale SMS"}),
        ({"channels": ["EMAIL"], "status": ["SCHEDULED"]}, {"Trial Expiry Email"}),
        (
            {"delivery_type": ["PERIODIC"]},
            {"Daily Deals Push", "Monthly Newsletter", "Weekend Offer SMS"},
        ),
        ({"tags": ["sale"], "channels": ["PUSH"]}, {"Web Flash Sale"}),
        ({"name": "newsletter"}, {"Monthly Newsletter"}),
        (
            {"created_by": ["crm@example.com"], "status": ["ACTIVE"]},
            {"Monthly Newsletter", "Order Confirmation"},
        ),
        (
            {"created_date": {"from_date": "2024-03-01", "to_date": "2024-04-30"}},
            {
                "Cart Abandonment Push",
                "Web Flash Sale",
                "Live Score Activity",
                "Trial Expiry Email",
            },
        ),
    ],
)
def test_search_filters(moengage_emulator, campaigns, fields, expected):
    found = {c["basic_details"]["name"] for c in search(campaigns, campaign_fields=fields).json()}
    assert found == expected


def test_search_by_id(moengage_emulator, campaigns):
    target = by_name(moengage_emulator)["Price Drop Alert"]["campaign_id"]
    (item,) = search(campaigns, campaign_fields={"id": target}).json()
    assert item["campaign_id"] == target


def test_campaign_ids_differ_between_workspaces_and_are_stable(moengage_emulator_factory):
    from moengage_pipelines.emulator import WorkspaceKeys

    emulator = moengage_emulator_factory(extra_workspaces={"OTHER": WorkspaceKeys("d", "c")})
    mine = [c["campaign_id"] for c in emulator.inspect.campaigns()]
    assert mine == [c["campaign_id"] for c in moengage_emulator_factory().inspect.campaigns()]
    assert set(mine).isdisjoint(c["campaign_id"] for c in emulator.inspect.campaigns("OTHER"))


@pytest.mark.parametrize(
    ("body", "target", "message"),
    [
        ({"limit": 1, "page": 1}, "request_id", "request_id key is mandatory field"),
        ({"request_id": "r", "page": 1}, "limit", "limit key is mandatory field"),
        (
            {"request_id": "r", "limit": 16, "page": 1},
            "limit",
            "limit should be an integer between 1 and 15",
        ),
        (
            {"request_id": "r", "limit": 0, "page": 1},
            "limit",
            "limit should be an integer between 1 and 15",
        ),
        ({"request_id": "r", "limit": 1}, "page", "page key is mandatory field"),
        (
            {"request_id": "r", "limit": 1, "page": 0},
            "page",
            "page should be an integer greater than or equal to 1",
        ),
        (
            {"request_id": "r", "limit": 1, "page": 1, "campaign_fields": {"channels": ["FAX"]}},
            "campaign_fields.channels",
            None,
        ),
    ],
)
def test_search_400s(campaigns, body, target, message):
    response = campaigns.post(SEARCH, json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "400 Bad Request"
    assert error["target"] == target
    assert error["details"][0]["target"] == target
    if message:
        assert error["message"] == message


# -- stats ----------------------------------------------------------------------------------------


def ts(day: str, hour: int = 12) -> str:
    return f"{day}T{hour:02d}:00:00Z"


@pytest.fixture
def activity(moengage_emulator, data):
    """Four users over two days; expected numbers are worked out by hand from the formula."""
    body = transition(
        customer("user-a", email="a@example.com"),
        customer("user-b", mobile="15550001"),
        customer("user-c", email="c@example.com", u_mb="15550002"),
        customer("user-d"),
        event(
            "user-a",
            action("Purchase", platform="ANDROID", current_time=ts(D1), attributes={"revenue": 10}),
            action("Viewed", platform="ANDROID", current_time=ts(D1, 13)),
        ),
        event(
            "user-b",
            action("Purchase", platform="iOS", current_time=ts(D1), attributes={"revenue": 5}),
        ),
        event("user-c", action("App Opened", platform="web", current_time=ts(D1))),
        event("user-d", action("Viewed", platform="android", current_time=ts(D1))),
        event(
            "user-a",
            action("Purchase", platform="ANDROID", current_time=ts(D2), attributes={"revenue": 20}),
        ),
        event(
            "user-b",
            action("Viewed", platform="iOS", current_time=ts(D2)),
            action("Purchase", platform="iOS", current_time=ts(D2, 14), attributes={"revenue": 7}),
        ),
    )
    assert data.post(f"/v1/transition/{WORKSPACE}", json=body).status_code == 200
    return by_name(moengage_emulator)


def stats(client, ids, metric="TOTAL", attribution="VIEW_THROUGH", start=D1, end=D2, **extra):
    body = {
        "request_id": "req-9",
        "start_date": start,
        "end_date": end,
        "attribution_type": attribution,
        "metric_type": metric,
        **extra,
    }
    if ids is not None:
        body["campaign_ids"] = ids
    response = client.post(STATS, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def variation(payload, campaign_id, platform, name="all_variations"):
    (entry,) = payload["data"][campaign_id]
    return entry["platforms"][platform]["locales"]["all_locales"]["variations"][name]


def test_push_stats_total(activity, campaigns):
    campaign = activity["Daily Deals Push"]
    payload = stats(campaigns, [campaign["campaign_id"]])
    assert (
        payload["response_id"],
        payload["total_campaigns"],
        payload["current_page"],
        payload["total_pages"],
    ) == (
        "req-9",
        1,
        1,
        1,
    )
    (entry,) = payload["data"][campaign["campaign_id"]]
    assert set(entry["platforms"]) == {"android", "ios", "web"}
    android = variation(payload, campaign["campaign_id"], "android")
    perf = android["performance_stats"]
    # Day 1: user-a (2 events, a clicker) and user-d; day 2: user-a.
    assert {
        k: perf[k] for k in ("attempted", "sent", "failed", "impression", "click", "delivered")
    } == {
        "attempted": 3,
        "sent": 3,
        "failed": 0,
        "impression": 3,
        "click": 1,
        "delivered": 3,
    }
    assert perf["ctr"] == 33.33
    assert perf["sent_rate"] == 100
    goal = android["conversion_goal_stats"]["Purchase"]
    assert (goal["conversions"], goal["total"], goal["unique"], goal["revenue"]) == (2, 2, 1, 30)
    assert android["delivery_funnel"]["reachable_users_in_segment"] == 3
    ios = variation(payload, campaign["campaign_id"], "ios")
    assert ios["performance_stats"]["attempted"] == 2
    assert ios["conversion_goal_stats"]["Purchase"]["revenue"] == 12
    control = variation(payload, campaign["campaign_id"], "android", "campaign_control_group")
    assert control["failure_breakdown"] == {"user_removed_due_to_campaing_control_group": 0}


def test_push_stats_unique_and_click_attribution(activity, campaigns):
    campaign_id = activity["Daily Deals Push"]["campaign_id"]
    unique = variation(stats(campaigns, [campaign_id], metric="UNIQUE"), campaign_id, "android")
    assert unique["performance_stats"]["attempted"] == 2  # user-a and user-d over the range
    assert unique["conversion_goal_stats"]["Purchase"]["conversions"] == 1
    clicked = variation(
        stats(campaigns, [campaign_id], attribution="CLICK_THROUGH"), campaign_id, "ios"
    )
    # Only day 2's user-b clicked (2 iOS events), so only that Purchase is attributed.
    assert clicked["conversion_goal_stats"]["Purchase"]["conversions"] == 1
    assert clicked["conversion_goal_stats"]["Purchase"]["revenue"] == 7


def test_email_and_sms_audiences(activity, campaigns):
    email_id = activity["Monthly Newsletter"]["campaign_id"]
    sms_id = activity["Weekend Offer SMS"]["campaign_id"]
    payload = stats(campaigns, [email_id, sms_id])
    email = variation(payload, email_id, "unknown")["performance_stats"]
    # Users with an email and an event: day 1 user-a (clicker) and user-c; day 2 user-a.
    assert {
        k: email[k] for k in ("attempted", "sent", "bounced", "delivered", "opened", "click")
    } == {
        "attempted": 3,
        "sent": 3,
        "bounced": 0,
        "delivered": 3,
        "opened": 1,
        "click": 1,
    }
    sms = variation(payload, sms_id, "unknown")["performance_stats"]
    # Users with a mobile: day 1 user-b and user-c; day 2 user-b (a clicker).
    assert (sms["attempted"], sms["click"]) == (3, 1)


def test_children_split_the_parent_days(activity, campaigns, moengage_emulator):
    parent = activity["Daily Deals Push"]
    children = [
        c for c in moengage_emulator.inspect.campaigns() if c["parent_id"] == parent["campaign_id"]
    ]
    payload = stats(campaigns, [parent["campaign_id"]] + [c["campaign_id"] for c in children])
    attempted = {
        c["child_index"]: variation(payload, c["campaign_id"], "android")["performance_stats"][
            "attempted"
        ]
        for c in children
    }
    runs = {
        k: [d for d in (D1, D2) if date.fromisoformat(d).toordinal() % 3 == k] for k in range(3)
    }
    expected = {k: sum({D1: 2, D2: 1}[d] for d in days) for k, days in runs.items()}
    assert attempted == expected
    assert (
        sum(attempted.values())
        == variation(payload, parent["campaign_id"], "android")["performance_stats"]["attempted"]
    )


def test_failures_and_rates_at_scale(moengage_emulator, data, campaigns):
    body = transition(
        *(
            event(f"user-{i:03d}", action("Opened", platform="ANDROID", current_time=ts(D1)))
            for i in range(40)
        )
    )
    data.post(f"/v1/transition/{WORKSPACE}", json=body)
    campaign_id = by_name(moengage_emulator)["Welcome Push"]["campaign_id"]
    stats_android = variation(
        stats(campaigns, [campaign_id], start=D1, end=D1), campaign_id, "android"
    )
    perf = stats_android["performance_stats"]
    assert (perf["attempted"], perf["failed"], perf["sent"], perf["impression"]) == (40, 2, 38, 35)
    assert (perf["sent_rate"], perf["failure_rate"]) == (95.0, 5.0)
    assert stats_android["failure_breakdown"] == {"send_failed": 2}
    gcg = variation(
        stats(campaigns, [campaign_id], start=D1, end=D1),
        campaign_id,
        "android",
        "global_control_group",
    )
    assert gcg["failure_breakdown"] == {"user_removed_due_to_global_control_group": 0}


def test_without_ids_lists_active_campaigns_and_pages(activity, campaigns, moengage_emulator):
    payload = stats(campaigns, None)
    active = set(payload["data"])
    names = {c["campaign_id"]: c["name"] for c in moengage_emulator.inspect.campaigns()}
    # Web Flash Sale targets WEB only; user-c's web event makes it active.
    assert "Web Flash Sale" in {names[i] for i in active}
    assert payload["total_campaigns"] > 10
    assert len(payload["data"]) == 10
    assert payload["total_pages"] == -(-payload["total_campaigns"] // 10)
    page2 = stats(campaigns, None, offset=10, limit=10)
    assert page2["current_page"] == 2
    assert set(page2["data"]).isdisjoint(active)


def test_deleted_users_no_longer_count(activity, campaigns, data):
    campaign_id = activity["Daily Deals Push"]["campaign_id"]
    data.post(
        "/v1/customer/delete",
        params={"app_id": WORKSPACE},
        json={"identity_type": "customer_id", "identity_value": "user-d"},
    )
    perf = variation(stats(campaigns, [campaign_id]), campaign_id, "android")["performance_stats"]
    assert perf["attempted"] == 2


def test_unknown_campaign_ids_are_counted_without_data(activity, campaigns):
    payload = stats(campaigns, ["0" * 24])
    assert payload["total_campaigns"] == 1
    assert payload["data"] == {}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"end_date": "2024-02-01", "start_date": "2024-01-01"}, "end_date"),
        ({"end_date": None}, "end_date"),
        ({"start_date": "01-03-2024"}, "start_date"),
        ({"end_date": "2024-02-28", "start_date": "2024-03-01"}, "end_date"),
        ({"attribution_type": "LAST_CLICK"}, "attribution_type"),
        ({"metric_type": "ALL"}, "metric_type"),
        ({"campaign_ids": [str(i) for i in range(11)]}, "campaign_ids"),
        ({"limit": 11}, "limit"),
        ({"offset": -1}, "offset"),
        ({"request_id": None}, "request_id"),
    ],
)
def test_stats_400s(campaigns, change, field):
    body = {
        "request_id": "r",
        "start_date": D1,
        "end_date": D2,
        "attribution_type": "VIEW_THROUGH",
        "metric_type": "TOTAL",
        **change,
    }
    body = {k: v for k, v in body.items() if v is not None}
    response = campaigns.post(STATS, json=body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["title"] == "Invalid Field Value"
    assert payload["description"].startswith(f"{field} - ")
    assert len(payload["code"]) == 8


def test_stats_accepts_exactly_thirty_days(campaigns):
    body = {
        "request_id": "r",
        "start_date": "2024-01-01",
        "end_date": "2024-01-31",
        "attribution_type": "IN_SESSION",
        "metric_type": "UNIQUE",
    }
    assert campaigns.post(STATS, json=body).status_code == 200


def test_api_triggered_campaigns_have_no_stats_and_are_not_searchable(
    moengage_emulator, data, campaigns
):
    [api_triggered] = [
        c
        for c in moengage_emulator.inspect.campaigns(include_api_triggered=True)
        if c["delivery_type"] == "API_TRIGGERED"
    ]
    assert api_triggered["channel"] == "EMAIL"
    assert api_triggered["campaign_id"] not in {
        c["campaign_id"] for c in by_name(moengage_emulator).values()
    }
    # A user with an email who was active on D1: every EMAIL parent reached them that day.
    body = transition(
        customer("user-1", email="ada@example.com"),
        event("user-1", action("Login", current_time=f"{D1}T10:00:00Z")),
    )
    assert data.post(f"/v1/transition/{WORKSPACE}", json=body).status_code == 200
    spring = by_name(moengage_emulator)["Spring Collection Launch"]["campaign_id"]
    listed = stats(campaigns, None, start=D1, end=D1, limit=10)
    assert listed["total_campaigns"] > 0
    every_page = [
        campaign_id
        for offset in range(0, listed["total_campaigns"], 10)
        for campaign_id in stats(campaigns, None, start=D1, end=D1, offset=offset)["data"]
    ]
    assert spring in every_page and api_triggered["campaign_id"] not in every_page
    asked = stats(campaigns, [api_triggered["campaign_id"], spring], start=D1, end=D1)
    assert asked["total_campaigns"] == 2
    assert list(asked["data"]) == [spring]
    found = search(campaigns, campaign_fields={"name": "Password Reset"}).json()
    assert found == []
    listing = data.get("/_emulator/campaigns", params={"include_api_triggered": "true"}).json()
    assert api_triggered in listing and len(listing) == len(by_name(moengage_emulator)) + 1
