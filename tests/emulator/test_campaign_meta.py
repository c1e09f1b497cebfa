"""Campaign meta (legacy v1): request rules, answer shape, reachability and its daily cache."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moengage_pipelines.emulator import RateLimit
from moengage_pipelines.emulator.campaign_catalog import catalogue
from moengage_pipelines.emulator.clock import FakeClock
from tests.emulator.conftest import (
    BASE_URL,
    CAMPAIGN_KEY,
    DATA_KEY,
    WORKSPACE,
    campaign_client,
    customer,
    data_client,
    transition,
)

META = "/core-services/v1/campaigns/meta"
SEARCH = "/core-services/v1/campaigns/search"


def body(**fields) -> dict:
    return {"request_id": "meta-1", "limit": 15, "page": 1, **fields}


def all_pages(client: httpx.Client, path: str, **fields) -> list[dict]:
    found, page = [], 1
    while True:
        answer = client.post(path, json=body(page=page, **fields))
        assert answer.status_code == 200
        found += answer.json()
        if len(answer.json()) < 15:
            return found
        page += 1


def by_name(items: list[dict]) -> dict[str, dict]:
    return {item["campaign_name"]: item for item in items}


def test_meta_is_a_bare_array_with_the_documented_fields(campaigns):
    answer = campaigns.post(META, json=body(campaign_fields={"channels": ["PUSH"]}))
    assert answer.status_code == 200
    items = answer.json()
    assert isinstance(items, list) and items
    welcome = by_name(items)["Welcome Push"]
    assert welcome == {
        "campaign_id": welcome["campaign_id"],
        "channel": "PUSH",
        "platform": ["ANDROID", "IOS"],
        "created_by": "growth@example.com",
        "campaign_delivery_type": "ONE_TIME",
        "campaign_name": "Welcome Push",
        "campaign_team": "Growth",
        "campaign_tags": ["onboarding"],
        "campaign_status": "Sent",
        "campaign_start_time": "2024-01-01T08:00:00",
    }
    email = campaigns.post(META, json=body(campaign_fields={"channels": ["EMAIL"]})).json()
    assert all(item["platform"] == [] for item in email)


def test_meta_lists_the_same_catalogue_as_search(campaigns):
    for fields in ({}, {"include_child_campaigns": True, "include_archive_campaigns": True}):
        meta = all_pages(campaigns, META, **fields)
        search = all_pages(campaigns, SEARCH, **fields)
        assert [m["campaign_id"] for m in meta] == [s["campaign_id"] for s in search]
    everything = all_pages(
        campaigns, META, include_child_campaigns=True, include_archive_campaigns=True
    )
    assert len(everything) == len(catalogue(WORKSPACE)) == 25


def test_pages_hold_at_most_fifteen(campaigns):
    assert len(campaigns.post(META, json=body()).json()) == 15
    assert len(campaigns.post(META, json=body(page=2)).json()) == 1  # 16 parents not archived
    assert campaigns.post(META, json=body(page=3)).json() == []


@pytest.mark.parametrize(
    ("fields", "target", "fragment"),
    [
        ({"limit": 16}, "limit", "between 1 and 15"),
        ({"limit": 0}, "limit", "between 1 and 15"),
        ({"limit": None}, "limit", "limit key is mandatory field"),
        ({"page": 0}, "page", "greater than or equal to 1"),
        ({"request_id": None}, "request_id", "request_id key is mandatory field"),
        ({"campaign_fields": {"channels": ["FAX"]}}, "campaign_fields.channels", "FAX"),
        ({"campaign_fields": {"status": ["DONE"]}}, "campaign_fields.status", "DONE"),
        (
            {"campaign_fields": {"created_date": {"from_date": "2024-01-01"}}},
            "campaign_fields.created_date.to_date",
            "to_date key is mandatory field",
        ),
        (
            {"campaign_fields": {"created_date": {"from_date": "2024/01/01", "to_date": "x"}}},
            "campaign_fields.created_date.from_date",
            "YYYY-MM-DD or DD-MM-YYYY",
        ),
        ({"include_child_campaigns": "yes"}, "include_child_campaigns", "boolean"),
    ],
)
def test_invalid_requests_are_400_in_the_campaigns_envelope(campaigns, fields, target, fragment):
    document = {k: v for k, v in body(**fields).items() if v is not None}
    answer = campaigns.post(META, json=document)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "400 Bad Request"
    assert error["target"] == target and fragment in error["message"]
    assert error["details"] == [{"target": target, "message": error["message"]}]


def test_meta_only_channels_and_retired_status_are_accepted(campaigns):
    for fields in (
        {"channels": ["WHATSAPP", "FACEBOOK", "GOOGLE ADS", "CONNECTORS"]},
        {"status": ["RETIRED"]},
    ):
        answer = campaigns.post(META, json=body(campaign_fields=fields))
        assert answer.status_code == 200 and answer.json() == []  # none in the catalogue


def test_filters(campaigns):
    sms = campaigns.post(META, json=body(campaign_fields={"channels": ["SMS"]})).json()
    assert {i["channel"] for i in sms} == {"SMS"} and len(sms) == 3
    periodic = campaigns.post(META, json=body(campaign_fields={"delivery_type": ["PERIODIC"]}))
    assert {i["campaign_delivery_type"] for i in periodic.json()} == {"PERIODIC"}
    dated = campaigns.post(
        META,
        json=body(
            campaign_fields={"created_date": {"from_date": "01-01-2024", "to_date": "31-01-2024"}}
        ),
    ).json()
    assert [i["campaign_name"] for i in dated] == ["Welcome Push", "Festive Sale SMS"]
    tagged = campaigns.post(META, json=body(campaign_fields={"tags": ["sale"], "name": "flash"}))
    assert [i["campaign_name"] for i in tagged.json()] == ["Web Flash Sale"]
    [one] = campaigns.post(
        META, json=body(campaign_fields={"id": sms[0]["campaign_id"]}, limit=1)
    ).json()
    assert one["campaign_id"] == sms[0]["campaign_id"]


def test_children_and_periodic_parents(campaigns):
    parents = by_name(all_pages(campaigns, META))
    assert parents["Daily Deals Push"]["total_child_campaigns"] == 3
    assert parents["Monthly Newsletter"]["total_child_campaigns"] == 2
    assert "total_child_campaigns" not in parents["Welcome Push"]
    assert not any("parent_campaign_id" in item for item in parents.values())
    everything = by_name(all_pages(campaigns, META, include_child_campaigns=True))
    child = everything["Daily Deals Push - Run 2"]
    assert child["parent_campaign_id"] == parents["Daily Deals Push"]["campaign_id"]
    assert "total_child_campaigns" not in child
    assert everything["Cart Abandonment Push"]["flow_name"] == "Cart Recovery Flow"


def test_reachability_only_for_scheduled_one_time_and_triggered_campaigns(
    moengage_emulator, campaigns
):
    with data_client(moengage_emulator) as data:
        data.post(
            f"/v1/transition/{WORKSPACE}",
            json=transition(
                customer("user-a", email="a@example.com"),
                customer("user-b", email="b@example.com", mobile="9190000"),
                customer("user-c"),
            ),
        )
    items = by_name(all_pages(campaigns, META))
    trial = items["Trial Expiry Email"]  # SCHEDULED, BUSINESS_EVENT_TRIGGERED
    assert trial["campaign_status"] == "Scheduled"
    assert trial["reachability_details"]["count"] == 2  # users with an email
    # SCHEDULED but a broadcast live activity, and active campaigns: no reachability.
    assert "reachability_details" not in items["Live Score Activity"]
    assert "reachability_details" not in items["Order Confirmation"]


def test_reachability_is_computed_once_a_day(moengage_emulator_factory):
    clock = FakeClock(start=datetime(2025, 3, 10, 9, 5, 42, 661000, tzinfo=UTC).timestamp())
    emulator = moengage_emulator_factory(clock=clock)

    def trial() -> dict:
        with campaign_client(emulator) as client:
            items = by_name(all_pages(client, META, campaign_fields={"status": ["SCHEDULED"]}))
        return items["Trial Expiry Email"]["reachability_details"]

    def add_users(*ids: str) -> None:
        with data_client(emulator) as data:
            elements = [customer(f"user-{i}", email=f"{i}@example.com") for i in ids]
            assert (
                data.post(f"/v1/transition/{WORKSPACE}", json=transition(*elements)).status_code
                == 200
            )

    add_users("a")
    assert trial() == {"count": 1, "last_updated_time": "2025-03-10T09:05:42.661000"}
    add_users("b", "c")
    clock.advance(3600)
    assert trial() == {"count": 1, "last_updated_time": "2025-03-10T09:05:42.661000"}  # cached
    clock.advance(15 * 3600)  # the next UTC day
    assert trial() == {"count": 3, "last_updated_time": "2025-03-11T01:05:42.661000"}
    emulator.inspect.reset()
    add_users("d")
    assert trial()["count"] == 1  # reset forgets the cache with the users


def test_push_reachability_counts_users_on_the_campaign_platforms(moengage_emulator_factory):
    emulator = moengage_emulator_factory()
    with data_client(emulator) as data:
        data.post(
            f"/v1/transition/{WORKSPACE}",
            json=transition(
                customer("ios-user"),
                {
                    "type": "event",
                    "customer_id": "ios-user",
                    "actions": [{"action": "x", "platform": "iOS"}],
                },
                customer("web-user"),
                {
                    "type": "event",
                    "customer_id": "web-user",
                    "actions": [{"action": "x", "platform": "web"}],
                },
                customer("device-user"),
                {
                    "type": "device",
                    "customer_id": "device-user",
                    "device_id": "d1",
                    "attributes": {"platform": "iOS", "push_id": "tok"},
                },
            ),
        )
    from moengage_pipelines.emulator.campaign_reachability import reachability

    live = next(c for c in catalogue(WORKSPACE) if c.name == "Live Score Activity")  # iOS push
    assert reachability(emulator.store, WORKSPACE, live, emulator.now())["count"] == 2


def test_auth_and_appkey_are_required(moengage_emulator):
    def post(**kw) -> httpx.Response:
        with httpx.Client(
            transport=moengage_emulator.transport(), base_url=BASE_URL, **kw
        ) as client:
            return client.post(META, json=body())

    no_appkey = post(auth=(WORKSPACE, CAMPAIGN_KEY))
    assert no_appkey.status_code == 401
    assert no_appkey.json()["error"]["target"] == "MOE-APPKEY"
    data_key = post(auth=(WORKSPACE, DATA_KEY), headers={"MOE-APPKEY": WORKSPACE})
    assert data_key.status_code == 403


def test_meta_and_search_share_the_campaigns_rate_pool(moengage_emulator_factory):
    emulator = moengage_emulator_factory(
        rate_limits={"campaigns": (RateLimit(3, 1), RateLimit(100, 60), RateLimit(6000, 3600))},
        clock=FakeClock(),
    )
    with campaign_client(emulator) as client:
        assert client.post(SEARCH, json=body()).status_code == 200
        assert client.post(META, json=body()).status_code == 200
        assert client.post(META, json=body()).status_code == 200
        refused = client.post(META, json=body())
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "429 conflict"
    assert refused.headers["x-ratelimit-limit"] == "3"


# -- search and meta share one request parser ---------------------------------------------------

# Values both APIs accept (RETIRED and the extra meta channels are meta's alone), and some that
# neither does.
DATES = st.sampled_from(["2024-01-01", "2024-06-30", "15-03-2024", "2024-13-01", "20240101", 5])
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "channels": st.lists(st.sampled_from(["PUSH", "EMAIL", "SMS", "FAX"]), max_size=2),
        "delivery_type": st.lists(
            st.sampled_from(["ONE_TIME", "PERIODIC", "EVENT_TRIGGERED", "LOCATION_TRIGGERED"]),
            max_size=2,
        ),
        "status": st.lists(st.sampled_from(["ACTIVE", "SENT", "ARCHIVED", "NOPE"]), max_size=2),
        "tags": st.lists(st.sampled_from(["sale", "onboarding", "news"]), max_size=2) | st.just(3),
        "created_by": st.lists(st.sampled_from(["growth@example.com", "x@y"]), max_size=1),
        "created_date": st.fixed_dictionaries({"from_date": DATES, "to_date": DATES}),
        "name": st.sampled_from(["push", "NEWS", "zzz", ""]) | st.just(1),
        "id": st.sampled_from([catalogue(WORKSPACE)[0].campaign_id, "0" * 24]),
    },
)
REQUESTS = st.fixed_dictionaries(
    {
        "request_id": st.just("r") | st.just(""),
        "limit": st.integers(0, 16),
        "page": st.integers(0, 3),
    },
    optional={
        "include_child_campaigns": st.booleans() | st.just("yes"),
        "include_archive_campaigns": st.booleans(),
        "campaign_fields": FIELDS,
    },
)


def test_search_and_meta_filter_and_refuse_alike(moengage_emulator_factory):
    emulator = moengage_emulator_factory(rate_limits_enabled=False)

    @settings(max_examples=80, deadline=None)
    @given(request=REQUESTS)
    def check(request: dict) -> None:
        with campaign_client(emulator) as client:
            search = client.post(SEARCH, json=request)
            meta = client.post(META, json=request)
        assert search.status_code == meta.status_code
        if search.status_code == 200:
            assert [c["campaign_id"] for c in search.json()] == [
                c["campaign_id"] for c in meta.json()
            ]
            return
        assert search.status_code == 400
        searched, described = search.json()["error"], meta.json()["error"]
        assert searched["target"] == described["target"]
        if searched["target"] not in ("campaign_fields.channels", "campaign_fields.status"):
            # The enums list what each API allows; every other message is the same text.
            assert searched["message"] == described["message"]

    check()
