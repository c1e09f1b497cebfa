"""User attributes: ``unset_attributes``, create-only and read-only keys, refused names, objects."""

from __future__ import annotations

import pytest

from tests.emulator.conftest import WORKSPACE, customer, transition

TRACK_USER = f"/v1/customer/{WORKSPACE}"
BULK = f"/v1/transition/{WORKSPACE}"


def drops(emulator, reason: str) -> list:
    return [(d["kind"], d["element"]) for d in emulator.inspect.dropped() if d["reason"] == reason]


# -- unset_attributes (legacy Track User) ---------------------------------------------------------


def test_unset_attributes_by_equals_prefix_suffix_and_contains(moengage_emulator, data):
    seeded = customer(
        "user-1",
        first_name="Ada",
        promo_code="X1",
        Promo_summer="Y",
        score_TOTAL=3,
        old_segment="a",
        was_old_value="b",
        keep=1,
    )
    assert data.post(TRACK_USER, json=seeded).status_code == 200
    body = {
        **customer("user-1", keep=2),
        "unset_attributes": [
            {"type": "equals", "attr": "first_name", "case_sensitive": True},
            {"type": "prefix", "attr": "promo_"},  # case-sensitive by default: not Promo_summer
            {"type": "suffix", "attr": "_total", "case_sensitive": False},
            {"type": "contains", "attr": "old"},
            {"type": "equals", "attr": "keep"},  # unset first, then the payload sets it again
        ],
    }
    assert data.post(TRACK_USER, json=body).status_code == 200
    user = moengage_emulator.inspect.user("user-1")
    assert user["attributes"] == {"Promo_summer": "Y", "keep": 2}
    assert set(user["attribute_types"]) == {"Promo_summer", "keep"}
    assert moengage_emulator.inspect.dropped() == []


def test_unset_attributes_in_bulk_and_invalid_entries_are_dropped(moengage_emulator, data):
    data.post(BULK, json=transition(customer("user-1", a=1, b=2)))
    element = {
        **customer("user-1"),
        "unset_attributes": [
            {"type": "equals", "attr": "a"},
            {"type": "regex", "attr": "b"},
            {"type": "equals"},
            "b",
        ],
    }
    assert data.post(BULK, json=transition(element)).status_code == 200
    assert moengage_emulator.inspect.users() == {"user-1": {"b": 2}}
    assert drops(moengage_emulator, "invalid unset_attributes entry") == [
        ("unset", {"type": "regex", "attr": "b"}),
        ("unset", {"type": "equals"}),
        ("unset", "b"),
    ]
    not_a_list = {**customer("user-1"), "unset_attributes": {"type": "equals", "attr": "b"}}
    assert data.post(TRACK_USER, json=not_a_list).status_code == 200
    assert moengage_emulator.inspect.users() == {"user-1": {"b": 2}}
    assert drops(moengage_emulator, "invalid unset_attributes entry")[-1] == (
        "unset",
        {"unset_attributes": {"type": "equals", "attr": "b"}},
    )


# -- create-only and read-only keys --------------------------------------------------------------

CREATE_ONLY = {
    "publisher_name": "Ads Inc",
    "campaign_name": "launch",
    "u_l_a": 1_700_000_000_000,
    "cr_t": 1_690_000_000_000,
    "moe_gaid": "gaid-1",
    "advertising_identifier": "ad-1",
    "moe_mweb": True,
}


def test_create_only_keys_apply_when_the_user_is_created(moengage_emulator, data):
    assert data.post(
        TRACK_USER, json=customer("user-1", name="Ada", **CREATE_ONLY)
    ).status_code == (200)
    assert moengage_emulator.inspect.users()["user-1"] == {"name": "Ada", **CREATE_ONLY}
    assert moengage_emulator.inspect.user("user-1")["attribute_types"]["moe_mweb"] == "boolean"
    later = {name: f"changed-{name}" for name in CREATE_ONLY}
    assert data.post(BULK, json=transition(customer("user-1", name="Bo", **later))).status_code == (
        200
    )
    # The update applies; the create-only keys keep their first values.
    assert moengage_emulator.inspect.users()["user-1"] == {"name": "Bo", **CREATE_ONLY}
    assert drops(moengage_emulator, "create-only attribute and the customer already exists") == [
        ("attribute", {name: value}) for name, value in later.items()
    ]


def test_create_only_keys_count_as_create_for_the_first_element_of_a_body(moengage_emulator, data):
    body = transition(
        customer("user-2", publisher_name="first"), customer("user-2", publisher_name="second")
    )
    assert data.post(BULK, json=body).status_code == 200
    assert moengage_emulator.inspect.users() == {"user-2": {"publisher_name": "first"}}
    assert drops(moengage_emulator, "create-only attribute and the customer already exists") == [
        ("attribute", {"publisher_name": "second"})
    ]


READ_ONLY = {
    "t_rev": 100.5,
    "t_trans": 3,
    "moe_ip_city": "Pune",
    "moe_ip_country": "IN",
    "moe_dtzo": 330,
    "u_s_c": 12,
    "installed": True,
    "uninstall_time": "2024-01-01T00:00:00Z",
    "moe_rsp_android": 1,
}


@pytest.mark.parametrize("path", [TRACK_USER, BULK])
def test_read_only_keys_are_dropped_with_a_reason(moengage_emulator, data, path):
    body = customer("user-1", name="Ada", **READ_ONLY)
    assert data.post(path, json=body if path == TRACK_USER else transition(body)).status_code == 200
    assert moengage_emulator.inspect.users() == {"user-1": {"name": "Ada"}}
    assert drops(moengage_emulator, "read-only attribute") == [
        ("attribute", {name: value}) for name, value in READ_ONLY.items()
    ]


# -- refused names and object values --------------------------------------------------------------


def test_id_underscore_id_and_empty_names_are_refused(moengage_emulator, data):
    body = {"type": "customer", "customer_id": "user-1", "attributes": {"id": 7, "_id": "x", "": 1}}
    body["attributes"]["plan"] = "gold"
    assert data.post(TRACK_USER, json=body).status_code == 200
    assert moengage_emulator.inspect.users() == {"user-1": {"plan": "gold"}}
    assert drops(moengage_emulator, "reserved attribute name") == [
        ("attribute", {"id": 7}),
        ("attribute", {"_id": "x"}),
        ("attribute", {"": 1}),
    ]


def test_object_attributes_are_stored_with_the_object_type(moengage_emulator, data):
    address = {"city": "Pune", "zip": 411001, "lines": ["a", "b"], "geo": {"lat": 18.5}}
    assert data.post(TRACK_USER, json=customer("user-1", address=address)).status_code == 200
    user = moengage_emulator.inspect.user("user-1")
    assert user["attributes"]["address"] == address
    assert user["attribute_types"]["address"] == "object"
    exported = data.post(
        "/v1/customers/export",
        params={"app_id": WORKSPACE},
        json={
            "data": {"identifiers": [{"identifier_type": "customer_id", "identifier": "user-1"}]}
        },
    ).json()["data"]["users"][0]["user_attributes"]
    assert exported["address"] == address
