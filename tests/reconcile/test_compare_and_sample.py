"""What counts as the same attribute value, and how the sample is drawn from what a push sends."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.reconcile import compare_user, sample_sent_users
from moengage_pipelines.push.reconcile.compare import same_value
from moengage_pipelines.sources import open_source
from tests.reconcile.conftest import USERS_MAPPING, user_rows


@pytest.mark.parametrize(
    ("sent", "found"),
    [
        (3, 3.0),  # MoEngage keeps numbers as doubles
        (0.1 + 0.2, 0.3),
        ("2024-03-01", "2024-03-01T00:00:00.000Z"),
        ("2024-03-01T05:30:00+05:30", "2024-03-01T00:00:00Z"),
        ("2019-03-12T17:36:05Z", "2019-03-12T17:36:05.000Z"),
        ("2019-03-12T17:36:05.1234567Z", "2019-03-12T17:36:05.123Z"),
        (["a", 1], ["a", 1.0]),
        ({"city": "Pune", "n": 2}, {"n": 2.0, "city": "Pune"}),
        (True, True),
    ],
)
def test_values_moengage_keeps_differently_but_equal(sent, found):
    assert same_value(sent, found)


@pytest.mark.parametrize(
    ("sent", "found"),
    [
        ("3", 3),  # a text and a number are not the same attribute type
        (True, 1),
        (1, True),
        (1.0, 1.0000001),
        ("2024-15-01", "2024-15-01T00:00:00.000Z"),  # month 15 stays a string: exact text
        ("2024-03-01", "2024-03-02T00:00:00.000Z"),
        ("2024-03-01T00:00:00.001Z", "2024-03-01T00:00:00.000Z"),
        ("Gold", "gold"),
        (["a", "b"], ["b", "a"]),
        ({"a": 1}, {"a": 1, "b": 2}),
        ("x", None),
    ],
)
def test_values_that_differ(sent, found):
    assert not same_value(sent, found)


def test_standard_attributes_are_found_under_either_spelling():
    sent = {"email": "a@b.io", "first_name": "Ada", "u_bd": "1990-01-02", "plan": "gold"}
    found = {"u_em": "a@b.io", "u_fn": "Ada", "birthday": "1990-01-02T00:00:00.000Z"}
    compared, mismatches = compare_user("c1", sent, found)
    assert compared == 4
    assert [(m.attribute, m.reason) for m in mismatches] == [("plan", "missing")]


def test_platforms_nulls_and_create_only_keys_are_not_compared():
    sent = {"platforms": [{"platform": "ANDROID"}], "gone": None, "u_l_a": 1, "plan": "gold"}
    compared, mismatches = compare_user("c1", sent, {"plan": "gold", "u_l_a": 2})
    assert (compared, mismatches) == (1, [])


def test_the_sample_is_drawn_from_the_whole_source_and_repeatable(users_parquet):
    spec = users_parquet(user_rows(5_000))
    mapping = load_mapping(USERS_MAPPING)

    def draw(seed):
        return sample_sent_users(open_source(spec), mapping, size=50, seed=seed, batch_rows=700)

    first, again, other = draw(1), draw(1), draw(2)
    assert len(first) == 50 and len({u.customer_id for u in first}) == 50
    assert [u.customer_id for u in first] == [u.customer_id for u in again]
    assert [u.customer_id for u in first] != [u.customer_id for u in other]
    # Not the first rows: a uniform sample of 50 out of 5,000 reaches past the middle.
    assert max(u.row for u in first) > 2_500
    user = first[0]
    assert user.customer_id == f"user-{user.row}"
    assert user.attributes["plan"] == ("free", "gold", "pro")[user.row % 3]
    born = dt.date(1980, 1, 1) + dt.timedelta(days=user.row)
    assert user.attributes["u_bd"] == f"{born.isoformat()}T00:00:00Z"


def test_a_sample_larger_than_the_source_holds_every_sent_user_once(users_parquet):
    table = user_rows(30)
    # The third row breaks a rule (no customer id): it is not sent, so never sampled.
    ids = table.column("uid").to_pylist()
    ids[2] = None
    spec = users_parquet(table.set_column(0, "uid", pa.array(ids)))
    users = sample_sent_users(open_source(spec), load_mapping(USERS_MAPPING), size=100, seed=3)
    assert [u.row for u in users] == [i for i in range(30) if i != 2]


def test_a_user_sent_again_later_is_compared_with_its_last_row(users_parquet):
    rows = user_rows(12)
    later = user_rows(1, start=4).set_column(4, "plan", pa.array(["changed"]))
    spec = users_parquet(pa.concat_tables([rows, later]))
    mapping = load_mapping(USERS_MAPPING)
    drawn = 0
    for seed in range(25):
        users = sample_sent_users(open_source(spec), mapping, size=3, seed=seed, batch_rows=5)
        for user in users:
            if user.customer_id == "user-4":
                drawn += 1
                assert (user.row, user.attributes["plan"]) == (12, "changed")
    assert drawn  # some seeds drew the user's first row, which its later row replaced
    everyone = sample_sent_users(open_source(spec), mapping, size=50, seed=0, batch_rows=5)
    assert len(everyone) == 12
    assert {u.customer_id: u.attributes["plan"] for u in everyone}["user-4"] == "changed"
