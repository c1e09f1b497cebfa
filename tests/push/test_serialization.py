"""Serialization: every element parses back to exactly the source row's values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.prepare.serializer import ElementSerializer

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)

texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)
moments = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2029, 12, 31))
zoned = st.datetimes(
    min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2029, 12, 31),
    timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                               dt.timezone(dt.timedelta(hours=-8))]),
)
days = st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2029, 12, 31))


def _parse(elements: pa.Array) -> list[dict]:
    out = []
    for text in elements.to_pylist():
        assert text.endswith(",")
        out.append(orjson.loads(text[:-1]))  # orjson is strict: no NaN, valid UTF-8 only
    return out


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


rows = st.lists(
    st.tuples(
        st.one_of(st.none(), texts),
        st.one_of(st.none(), ints),
        st.one_of(st.none(), floats),
        st.one_of(st.none(), st.booleans()),
        st.one_of(st.none(), moments),
        st.one_of(st.none(), zoned),
        st.one_of(st.none(), days),
        st.one_of(st.none(), st.lists(texts, max_size=4)),
    ),
    min_size=1,
    max_size=40,
)


_SERIALIZERS: dict[bool, ElementSerializer] = {}


def _round_trip_serializer(send_nulls: bool) -> ElementSerializer:
    # One DuckDB connection per variant for all examples keeps the property test quick.
    if send_nulls not in _SERIALIZERS:
        mapping = load_mapping(
            {"entity": "users", "customer_id": "customer_id",
             "attributes": {f"attr {name}": name for name in NAMES}, "send_nulls": send_nulls}
        )
        _SERIALIZERS[send_nulls] = ElementSerializer(mapping, now=NOW)
    return _SERIALIZERS[send_nulls]


NAMES = ["s", "i", "f", "b", "ts", "tz", "d", "tags"]


@settings(max_examples=100, deadline=None)
@given(rows=rows, send_nulls=st.booleans())
def test_user_elements_round_trip(rows, send_nulls):
    columns = list(zip(*rows, strict=True))
    batch = pa.record_batch(
        {
            "customer_id": [f"user-{n}" for n in range(len(rows))],
            "s": pa.array(columns[0], pa.string()),
            "i": pa.array(columns[1], pa.int64()),
            "f": pa.array(columns[2], pa.float64()),
            "b": pa.array(columns[3], pa.bool_()),
            "ts": pa.array(columns[4], pa.timestamp("us")),
            "tz": pa.array(columns[5], pa.timestamp("us", tz="Asia/Kolkata")),
            "d": pa.array(columns[6], pa.date32()),
            "tags": pa.array(columns[7], pa.list_(pa.string())),
        }
    )
    result = _round_trip_serializer(send_nulls).serialize(batch)
    assert len(result.rejected) == 0
    parsed = _parse(result.elements)
    for n, (row, element) in enumerate(zip(rows, parsed, strict=True)):
        s, i, f, b, ts, tz, d, tags = row
        expected = {
            "attr s": s, "attr i": i, "attr f": f, "attr b": b,
            "attr ts": _iso(ts) if ts else None,
            "attr tz": _iso(tz) if tz else None,
            "attr d": d.isoformat() if d else None,
            "attr tags": tags,
        }
        if not send_nulls:
            expected = {key: value for key, value in expected.items() if value is not None}
        assert element == {"type": "customer", "customer_id": f"user-{n}",
                           "attributes": expected}
        # Key order follows the mapping.
        assert list(element["attributes"]) == list(expected)


@given(values=st.lists(floats, min_size=1, max_size=200))
@settings(max_examples=30, deadline=None)
def test_floats_are_exact(values):
    batch = pa.record_batch({"c": [f"c{n:03d}" for n in range(len(values))], "f": values})
    mapping = load_mapping({"entity": "users", "customer_id": "c", "attributes": ["f"]})
    with ElementSerializer(mapping, now=NOW) as serializer:
        parsed = _parse(serializer.serialize(batch).elements)
    for value, element in zip(values, parsed, strict=True):
        assert element["attributes"]["f"] == value


def test_escaping_of_hard_strings():
    hard = ['quote " backslash \\ slash /', "controls \x00\x01\x1f\x7f", "line\nsep\u2028\u2029",
            "emoji 😀 and ĉĥĵ", "tab\tcr\r", "'single'"]
    batch = pa.record_batch({"c": [f"user{n}" for n in range(len(hard))], "s": hard})
    mapping = load_mapping({"entity": "users", "customer_id": "c", "attributes": ["s"]})
    with ElementSerializer(mapping, now=NOW) as serializer:
        parsed = _parse(serializer.serialize(batch).elements)
    assert [element["attributes"]["s"] for element in parsed] == hard


def test_attribute_names_needing_escapes():
    batch = pa.record_batch({"c": ["user1"], "v": [1]})
    names = ['Loan "Amount"', "back\\slash", "it's", "ünïcode"]
    mapping = load_mapping(
        {"entity": "users", "customer_id": "c", "attributes": dict.fromkeys(names, "v")}
    )
    with ElementSerializer(mapping, now=NOW) as serializer:
        [element] = _parse(serializer.serialize(batch).elements)
    assert element["attributes"] == dict.fromkeys(names, 1)


def test_event_element_shape_and_values():
    batch = pa.record_batch(
        {
            "uid": ["u-1", "u-2"],
            "name": ["Purchase", "Add To Cart"],
            "at": pa.array([dt.datetime(2024, 3, 1, 10, 0, 5, 123456), dt.datetime(2024, 3, 2)],
                           pa.timestamp("us")),
            "platform": ["android", None],
            "version": ["1.2.3", None],
            "offset": [19800, None],
            "price": [Decimal("12.50"), None],
            "sku": ["S1", "S2"],
        }
    )
    mapping = load_mapping(
        {"entity": "events", "customer_id": "uid", "event_name_column": "name",
         "event_time_column": "at", "platform_column": "platform",
         "app_version_column": "version", "user_timezone_offset_column": "offset",
         "attributes": ["price", "sku"]}
    )
    with ElementSerializer(mapping, now=NOW) as serializer:
        first, second = _parse(serializer.serialize(batch).elements)
    assert first == {
        "type": "event", "customer_id": "u-1",
        "actions": [{"action": "Purchase", "attributes": {"price": 12.5, "sku": "S1"},
                     "platform": "ANDROID", "app_version": "1.2.3",
                     "current_time": "2024-03-01T10:00:05Z", "user_timezone_offset": 19800}],
    }
    # Null optional fields are left out, not sent as null.
    assert second == {
        "type": "event", "customer_id": "u-2",
        "actions": [{"action": "Add To Cart", "attributes": {"sku": "S2"},
                     "current_time": "2024-03-02T00:00:00Z"}],
    }


def test_event_constants_and_epoch_times():
    batch = pa.record_batch({"uid": ["u-1"], "ms": [1_709_287_205_000]})
    mapping = load_mapping(
        {"entity": "events", "customer_id": "uid", "event_name": "Login",
         "event_time_column": "ms", "event_time_unit": "ms", "platform": "IOS",
         "app_version": "2.0", "user_timezone_offset": -18000}
    )
    with ElementSerializer(mapping, now=NOW) as serializer:
        [element] = _parse(serializer.serialize(batch).elements)
    assert element["actions"] == [
        {"action": "Login", "attributes": {}, "platform": "iOS", "app_version": "2.0",
         "current_time": "2024-03-01T10:00:05Z", "user_timezone_offset": -18000}
    ]


def test_user_standard_attributes_platforms_and_update_existing_only():
    batch = pa.record_batch(
        {"id": [42], "full": ["Ada Lovelace"], "mail": ["ada@example.com"],
         "born": pa.array([dt.date(1815, 12, 10)], pa.date32())}
    )
    mapping = load_mapping(
        {"entity": "users", "customer_id": "id", "name": "full", "email": "mail",
         "birthday": "born", "update_existing_only": True,
         "platforms": [{"platform": "android"}, {"platform": "web", "active": False}]}
    )
    with ElementSerializer(mapping, now=NOW) as serializer:
        [element] = _parse(serializer.serialize(batch).elements)
    assert element == {
        "type": "customer", "customer_id": "42",
        "attributes": {
            "name": "Ada Lovelace", "email": "ada@example.com", "u_bd": "1815-12-10T00:00:00Z",
            "platforms": [{"platform": "ANDROID", "active": "true"},
                          {"platform": "web", "active": "false"}],
        },
        "update_existing_only": True,
    }


def test_declared_types_convert_strings():
    batch = pa.record_batch(
        {"c": ["user1"], "n": [" 12.5 "], "b": ["TRUE"], "when": ["2024-03-01T10:00:00+05:30"],
         "day": ["2024-03-01"], "num_as_text": [7]}
    )
    mapping = load_mapping(
        {"entity": "users", "customer_id": "c",
         "attributes": {"n": {"column": "n", "type": "number"},
                        "b": {"column": "b", "type": "bool"},
                        "when": {"column": "when", "type": "datetime"},
                        "day": {"column": "day", "type": "date"},
                        "code": {"column": "num_as_text", "type": "string"}}}
    )
    with ElementSerializer(mapping, now=NOW) as serializer:
        [element] = _parse(serializer.serialize(batch).elements)
    assert element["attributes"] == {
        "n": 12.5, "b": True, "when": "2024-03-01T04:30:00Z", "day": "2024-03-01", "code": "7"
    }


def test_nested_structs_and_lists_with_times():
    struct_type = pa.struct([("city", pa.string()), ("since", pa.timestamp("s"))])
    batch = pa.record_batch(
        {"c": ["user1"],
         "address": pa.array([{"city": "Pune", "since": dt.datetime(2020, 1, 2, 3, 4, 5)}],
                             struct_type),
         "visits": pa.array([[dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2)]],
                            pa.list_(pa.timestamp("ms"))),
         "scores": pa.array([[1.5, 2.0]], pa.list_(pa.float64()))}
    )
    mapping = load_mapping(
        {"entity": "users", "customer_id": "c", "attributes": ["address", "visits", "scores"]}
    )
    with ElementSerializer(mapping, now=NOW) as serializer:
        [element] = _parse(serializer.serialize(batch).elements)
    assert element["attributes"] == {
        "address": {"city": "Pune", "since": "2020-01-02T03:04:05Z"},
        "visits": ["2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"],
        "scores": [1.5, 2.0],
    }


def test_catalog_item_shape_and_formats():
    batch = pa.record_batch(
        {"sku": [1001], "name": ["Mug"], "url": ["https://x/1"], "img": ["https://x/1.png"],
         "price": [9.99], "in_stock": [True],
         "added": pa.array([dt.datetime(2025, 8, 27, 19, 26, 38, 120000)], pa.timestamp("us")),
         "where": [" 12.9716, 77.5946 "]}
    )
    mapping = load_mapping(
        {"entity": "catalog", "catalog": "products", "id_column": "sku", "title_column": "name",
         "link_column": "url", "image_link_column": "img",
         "attributes": {"price": "price", "in_stock": "in_stock", "added": "added",
                        "where": {"column": "where", "type": "geopoint"}}}
    )
    with ElementSerializer(mapping, now=NOW) as serializer:
        [item] = _parse(serializer.serialize(batch).elements)
    assert item == {
        "id": "1001", "title": "Mug", "link": "https://x/1", "image_link": "https://x/1.png",
        "price": 9.99, "in_stock": True, "added": "2025-08-27T19:26:38.120Z",
        "where": "12.9716,77.5946",
    }


@pytest.mark.parametrize("large", [False, True])
def test_large_and_dictionary_string_columns(large):
    values = ["a", "b", None, "a"]
    column = pa.array(values, pa.large_string() if large else pa.string())
    if not large:
        column = column.dictionary_encode()
    batch = pa.record_batch({"c": ["u1", "u2", "u3", "u4"], "v": column})
    mapping = load_mapping({"entity": "users", "customer_id": "c", "attributes": ["v"]})
    with ElementSerializer(mapping, now=NOW) as serializer:
        parsed = _parse(serializer.serialize(batch).elements)
    assert [element["attributes"].get("v") for element in parsed] == values


def test_source_columns_named_like_the_query_columns():
    names = ["__reject", "__element", "__key", "__check", "__moengage_v0"]
    batch = pa.record_batch({"c": [" user1 "], **{name: [name] for name in names}})
    mapping = load_mapping({"entity": "users", "customer_id": "c", "attributes": names})
    with ElementSerializer(mapping, now=NOW, with_keys=True) as serializer:
        result = serializer.serialize(batch)
    [element] = _parse(result.elements)
    assert element["attributes"] == {name: name for name in names}
    assert result.keys.to_pylist() == ["user1"]
