"""NaN and infinities are missing values by default (``non_finite: null``), rows with
``non_finite: reject``; a required value that is NaN rejects its row either way."""

from __future__ import annotations

import datetime as dt

import orjson
import pyarrow as pa
import pytest

from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.prepare.serializer import ElementSerializer

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
NAN, INF = float("nan"), float("inf")


def _serialize(mapping: dict, columns: dict):
    with ElementSerializer(load_mapping(mapping), now=NOW) as serializer:
        result = serializer.serialize(pa.record_batch(columns))
    elements = [None if text is None else orjson.loads(text[:-1])
                for text in result.elements.to_pylist()]
    rejects = [(int(row), check.rule, check.column)
               for row, check in zip(result.rejected, result.rejected_checks, strict=True)]
    return elements, rejects


def _users(**extra) -> dict:
    return {"entity": "users", "customer_id": "cid", **extra}


@pytest.mark.parametrize("nulls_first", [False, True])
def test_non_finite_attributes_are_left_out_by_default(nulls_first):
    scores = [1.5, NAN, INF, -INF]
    if nulls_first:
        scores[0] = None  # the column is not null-free: the general plan
    elements, rejects = _serialize(
        _users(attributes=["score", "label"]),
        {"cid": ["user-1", "user-2", "user-3", "user-4"], "score": scores,
         "label": ["a", "b", "c", "d"]},
    )
    assert rejects == []
    assert [e["attributes"] for e in elements] == [
        {"label": "a"} if nulls_first else {"score": 1.5, "label": "a"},
        {"label": "b"}, {"label": "c"}, {"label": "d"},
    ]


def test_non_finite_attributes_are_sent_as_null_with_send_nulls():
    elements, rejects = _serialize(
        _users(attributes=["score"], send_nulls=True),
        {"cid": ["user-1", "user-2"], "score": [2.0, NAN]},
    )
    assert rejects == []
    assert [e["attributes"] for e in elements] == [{"score": 2.0}, {"score": None}]


def test_non_finite_values_inside_lists_structs_and_maps_become_null():
    point = pa.struct([("lat", pa.float64()), ("label", pa.string())])
    elements, rejects = _serialize(
        _users(attributes=["scores", "point", "weights", "nested"]),
        {
            "cid": ["user-1"],
            "scores": pa.array([[1.0, NAN, -INF, 2.5]], pa.list_(pa.float64())),
            "point": pa.array([{"lat": NAN, "label": "x"}], point),
            "weights": pa.array([[("a", 1.0), ("b", INF)]], pa.map_(pa.string(), pa.float64())),
            "nested": pa.array([[[NAN], [3.0]]], pa.list_(pa.list_(pa.float32()))),
        },
    )
    assert rejects == []
    assert elements[0]["attributes"] == {
        "scores": [1.0, None, None, 2.5], "point": {"lat": None, "label": "x"},
        "weights": {"a": 1.0, "b": None}, "nested": [[None], [3.0]],
    }


def test_declared_types_read_non_finite_as_missing():
    elements, rejects = _serialize(
        _users(attributes={"as_text": {"column": "f", "type": "string"},
                           "as_bool": {"column": "f", "type": "bool"},
                           "as_number": {"column": "f", "type": "number"}}),
        {"cid": ["user-1", "user-2"], "f": pa.array([0.0, NAN], pa.float32())},
    )
    assert rejects == []
    assert [e["attributes"] for e in elements] == [
        {"as_text": "0.0", "as_bool": False, "as_number": 0.0}, {}]


def test_reject_keeps_the_rule_for_every_conversion():
    _, rejects = _serialize(
        _users(attributes={"as_bool": {"column": "f", "type": "bool"}, "list": "l"},
               non_finite="reject"),
        {"cid": ["user-1", "user-2", "user-3"], "f": [1.0, INF, 0.0],
         "l": pa.array([[1.0], [2.0], [NAN]], pa.list_(pa.float64()))},
    )
    assert rejects == [(1, "non_finite_number", "f"), (2, "non_finite_number", "l")]


def test_timezone_offset_that_is_nan_is_left_out_or_rejected():
    mapping = {"entity": "events", "customer_id": "cid", "event_name": "Opened",
               "user_timezone_offset_column": "tz"}
    columns = {"cid": ["user-1", "user-2"], "tz": [19_800.0, NAN]}
    elements, rejects = _serialize(mapping, columns)
    assert rejects == []
    assert elements[0]["actions"][0]["user_timezone_offset"] == 19_800
    assert "user_timezone_offset" not in elements[1]["actions"][0]
    _, rejects = _serialize({**mapping, "non_finite": "reject"}, columns)
    assert rejects == [(1, "invalid_timezone_offset", "tz")]


@pytest.mark.parametrize("non_finite", ["null", "reject"])
def test_a_nan_event_time_rejects_its_row(non_finite):
    mapping = {"entity": "events", "customer_id": "cid", "event_name": "Opened",
               "event_time_column": "at", "non_finite": non_finite}
    elements, rejects = _serialize(
        mapping, {"cid": ["user-1", "user-2", "user-3"], "at": [1_740_000_000.0, NAN, -INF]})
    assert rejects == [(1, "non_finite_number", "at"), (2, "non_finite_number", "at")]
    assert elements[0]["actions"][0]["current_time"] == "2025-02-19T21:20:00Z"


@pytest.mark.parametrize("non_finite", ["null", "reject"])
def test_a_nan_mandatory_catalog_attribute_rejects_its_row(non_finite):
    mapping = {"entity": "catalog", "catalog": "products", "id_column": "sku",
               "title_column": "title", "link_column": "link", "image_link_column": "image",
               "attributes": {"price": "price"}, "non_finite": non_finite}
    columns = {"sku": ["a1", "a2", "a3"], "title": [1.0, NAN, 3.0], "link": ["l"] * 3,
               "image": ["i"] * 3, "price": [9.5, 1.0, NAN]}
    elements, rejects = _serialize(mapping, columns)
    if non_finite == "null":
        assert rejects == [(1, "non_finite_number", "title")]
        assert elements[2] == {"id": "a3", "title": "3.0", "link": "l", "image_link": "i"}
    else:
        assert rejects == [(1, "non_finite_number", "title"), (2, "non_finite_number", "price")]


def test_users_with_nan_reach_the_emulator_without_the_attribute(
    parquet_source, client, moengage_emulator
):
    rows = {"uid": ["user-1", "user-2", "user-3"], "score": [1.5, NAN, INF],
            "plan": ["gold", "silver", "free"]}
    report = run_push(parquet_source(rows), _users(customer_id="uid", attributes=["score", "plan"]),
                      client, sync_name="users", ledger=None)
    assert report.rows_rejected == 0 and report.users_sent == 3
    users = moengage_emulator.inspect.users()
    assert users["user-1"]["score"] == 1.5
    assert "score" not in users["user-2"] and "score" not in users["user-3"]
    assert users["user-3"]["plan"] == "free"
    assert moengage_emulator.inspect.dropped() == []
