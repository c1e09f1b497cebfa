"""Every validation rule: the rule name and the column at fault are reported."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from moengage_pipelines.push.mapping import MappingError, load_mapping
from moengage_pipelines.push.prepare.serializer import ElementSerializer

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
PAST = dt.datetime(2025, 5, 1)


def _rejects(mapping: dict, columns: dict) -> list[tuple[int, str, str | None]]:
    batch = pa.record_batch(columns)
    with ElementSerializer(load_mapping(mapping), now=NOW) as serializer:
        result = serializer.serialize(batch)
    # The valid rows are still serialized.
    assert len(result.elements) == batch.num_rows
    assert result.accepted + len(result.rejected) == batch.num_rows
    # Rejected rows have no element bytes.
    assert all(result.elements[int(i)].as_py() is None for i in result.rejected)
    return [
        (int(position), check.rule, check.column)
        for position, check in zip(result.rejected, result.rejected_checks, strict=True)
    ]


def _user(attributes: dict | None = None, **extra) -> dict:
    return {"entity": "users", "customer_id": "cid", "attributes": attributes or {}, **extra}


def _event(**extra) -> dict:
    return {"entity": "events", "customer_id": "cid", "event_name": "Viewed", **extra}


@pytest.mark.parametrize("bad", [None, "", "   "])
def test_missing_customer_id(bad):
    assert _rejects(_user(), {"cid": ["good-1", bad]}) == [(1, "missing_customer_id", "cid")]


@pytest.mark.parametrize("bad", ["unknown", "NULL", " Guest ", "n/a", "-1", "customer_id"])
def test_banned_customer_id(bad):
    assert _rejects(_user(), {"cid": [bad, "good-1"]}) == [(0, "banned_customer_id", "cid")]


def test_banned_integer_customer_id():
    assert _rejects(_user(), {"cid": [0, 12345]}) == [(0, "banned_customer_id", "cid")]


def test_short_customer_id():
    assert _rejects(_user(), {"cid": ["a", "ab"]}) == [(0, "short_customer_id", "cid")]


def test_missing_event_name():
    mapping = {"entity": "events", "customer_id": "cid", "event_name_column": "name"}
    got = _rejects(mapping, {"cid": ["user-1", "user-2"], "name": ["Viewed", " "]})
    assert got == [(1, "missing_event_name", "name")]


def test_reserved_event_name():
    mapping = {"entity": "events", "customer_id": "cid", "event_name_column": "name"}
    got = _rejects(mapping, {"cid": ["user-1", "user-2"], "name": ["MOE_login", "Login"]})
    assert got == [(0, "reserved_event_name", "name")]


def test_missing_event_time():
    got = _rejects(
        _event(event_time_column="at"),
        {"cid": ["user-1", "user-2"], "at": pa.array([PAST, None], pa.timestamp("us"))},
    )
    assert got == [(1, "missing_event_time", "at")]


def test_invalid_datetime_string():
    got = _rejects(
        _event(event_time_column="at"),
        {"cid": ["user-1", "user-2", "user-3"],
         "at": ["2025-05-01T10:00:00Z", "2025-15-01", "yesterday"]},
    )
    assert got == [(1, "invalid_datetime", "at"), (2, "invalid_datetime", "at")]


def test_future_event_time_relative_to_injected_now():
    at = pa.array([NOW.replace(tzinfo=None) + dt.timedelta(seconds=1), PAST,
                   NOW.replace(tzinfo=None)], pa.timestamp("us"))
    got = _rejects(_event(event_time_column="at"), {"cid": ["user-1", "user-2", "user-3"],
                                                     "at": at})
    assert got == [(0, "future_event_time", "at")]


def test_future_event_time_with_zone():
    # 12:30+05:30 is 07:00 UTC, before NOW (12:00 UTC): accepted. 18:00+05:30 is 12:30 UTC.
    at = ["2025-06-01T12:30:00+05:30", "2025-06-01T18:00:00+05:30"]
    got = _rejects(_event(event_time_column="at"), {"cid": ["user-1", "user-2"], "at": at})
    assert got == [(1, "future_event_time", "at")]


def test_invalid_platform_and_case_normalization():
    got = _rejects(
        _event(platform_column="p"),
        {"cid": ["user-1", "user-2", "user-3", "user-4"], "p": ["android", "Windows", None, "IOS"]},
    )
    assert got == [(1, "invalid_platform", "p")]


@pytest.mark.parametrize("bad", [54_001, -54_001, 1.5])
def test_invalid_timezone_offset(bad):
    got = _rejects(
        _event(user_timezone_offset_column="tz"),
        {"cid": ["user-1", "user-2"], "tz": pa.array([19_800, bad])},
    )
    assert got == [(1, "invalid_timezone_offset", "tz")]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_number(bad):
    got = _rejects(
        _user({"score": "score"}, non_finite="reject"),
        {"cid": ["user-1", "user-2"], "score": [1.0, bad]},
    )
    assert got == [(1, "non_finite_number", "score")]


def test_non_finite_number_inside_a_list():
    got = _rejects(
        _user({"scores": "scores"}, non_finite="reject"),
        {"cid": ["user-1", "user-2"], "scores": [[1.0, 2.0], [1.0, float("nan")]]},
    )
    assert got == [(1, "non_finite_number", "scores")]


def test_invalid_utf8_in_binary_column():
    got = _rejects(
        _user({"raw": "raw"}),
        {"cid": ["user-1", "user-2"], "raw": pa.array([b"caf\xc3\xa9", b"\xff\xfe"], pa.binary())},
    )
    assert got == [(1, "invalid_utf8", "raw")]


def test_invalid_type_for_declared_number_and_bool():
    got = _rejects(
        _user({"n": {"column": "n", "type": "number"}, "b": {"column": "b", "type": "bool"}}),
        {"cid": ["user-1", "user-2", "user-3"], "n": ["1.5", "abc", "2"],
         "b": ["true", "false", "maybe"]},
    )
    assert got == [(1, "invalid_type", "n"), (2, "invalid_type", "b")]


def test_invalid_datetime_for_declared_attribute():
    got = _rejects(
        _user({"joined": {"column": "j", "type": "datetime"}}),
        {"cid": ["user-1", "user-2"], "j": ["2024-01-01", "01/02/2024"]},
    )
    assert got == [(1, "invalid_datetime", "j")]


def _catalog(**attributes) -> dict:
    return {"entity": "catalog", "catalog": "products", "id_column": "sku",
            "title_column": "title", "link_column": "link", "image_link_column": "image",
            "attributes": attributes}


def _items(n: int, **overrides) -> dict:
    columns = {"sku": [f"sku-{i}" for i in range(n)], "title": ["T"] * n,
               "link": ["https://l"] * n, "image": ["https://i"] * n}
    columns.update(overrides)
    return columns


def test_missing_item_id():
    assert _rejects(_catalog(), _items(2, sku=["sku-1", None])) == [(1, "missing_item_id", "sku")]


def test_missing_mandatory_attribute():
    got = _rejects(_catalog(), _items(2, image=["https://i", ""]))
    assert got == [(1, "missing_mandatory_attribute", "image")]


def test_invalid_geopoint():
    got = _rejects(
        _catalog(where={"column": "where", "type": "geopoint"}),
        _items(4, where=["12.97,77.59", "91,0", "north", None]),
    )
    assert got == [(1, "invalid_geopoint", "where"), (2, "invalid_geopoint", "where")]


def test_invalid_type_for_catalog_double():
    got = _rejects(
        _catalog(price={"column": "price", "type": "double"}), _items(2, price=["9.5", "cheap"])
    )
    assert got == [(1, "invalid_type", "price")]


def test_first_failing_rule_wins():
    got = _rejects(
        _event(event_time_column="at", platform_column="p"),
        {"cid": ["null"], "at": pa.array([None], pa.timestamp("us")), "p": ["Windows"]},
    )
    assert got == [(0, "banned_customer_id", "cid")]


def test_unknown_column_is_a_mapping_error_naming_it():
    batch = pa.record_batch({"cid": ["user-1"], "email": ["x@y.z"]})
    mapping = load_mapping(_user({"plan": "subscription_plan"}))
    with (
        ElementSerializer(mapping, now=NOW) as serializer,
        pytest.raises(MappingError, match="subscription_plan"),
    ):
        serializer.serialize(batch)


def test_unusable_column_type_is_a_mapping_error():
    batch = pa.record_batch({"cid": [1.5]})
    with (
        ElementSerializer(load_mapping(_user()), now=NOW) as serializer,
        pytest.raises(MappingError, match="customer_id column 'cid'"),
    ):
        serializer.serialize(batch)
