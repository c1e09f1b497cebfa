"""Plans that know which columns hold no null write exactly the bytes of the general plan.

The serializer compiles, per batch, a plan in which the values of null-free columns are
written without the machinery that leaves out null values. That is only right if every
conversion yields a value for a non-null input or rejects the row; these tests run both
plans on the same batches, with every kind of column and every declared type, and compare
elements and rejects byte for byte.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.prepare.plan import compile_plan, filled_columns
from moengage_pipelines.push.prepare.serializer import ElementSerializer

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)

TYPES: dict[str, pa.DataType] = {
    "s": pa.string(),
    "ls": pa.large_string(),
    "i": pa.int64(),
    "f": pa.float64(),
    "b": pa.bool_(),
    "dec": pa.decimal128(10, 2),
    "ts": pa.timestamp("us"),
    "tz": pa.timestamp("ms", tz="Asia/Kolkata"),
    "d": pa.date32(),
    "bin": pa.binary(),
    "tags": pa.list_(pa.string()),
    "num_text": pa.string(),
    "bool_text": pa.string(),
    "time_text": pa.string(),
    "epoch": pa.int64(),
    "platform": pa.string(),
    "version": pa.string(),
    "offset": pa.int64(),
    "geo": pa.string(),
}

VALUES = {
    "s": st.text(max_size=8),
    "ls": st.text(max_size=8),
    "i": st.integers(-(2**40), 2**40),
    "f": st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([19_800.0, -3_600.0, 0.5])),
    "b": st.booleans(),
    "dec": st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    "ts": st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2035, 1, 1)),
    "tz": st.datetimes(min_value=dt.datetime(1990, 1, 2), max_value=dt.datetime(2029, 1, 1),
                       timezones=st.just(dt.UTC)),
    "d": st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2029, 1, 1)),
    "bin": st.sampled_from([b"ok", b"\xff\xfe", b"", "ü".encode()]),
    "tags": st.lists(st.text(max_size=4), max_size=3),
    "num_text": st.sampled_from(["1.5", " 2 ", "x", "", "nan", "1e400"]),
    "bool_text": st.sampled_from(["true", "FALSE", "yes", ""]),
    "time_text": st.sampled_from(["2024-03-01", "2024-03-01T10:00:00Z", "soon", "2099-01-01"]),
    "epoch": st.sampled_from([0, 1_709_287_205, 4_102_444_800, -5]),
    "platform": st.sampled_from(["android", "iOS", "", "  ", "fridge", "WEB"]),
    "version": st.text(max_size=4),
    "offset": st.sampled_from([0, 19800, -18000, 10**6]),
    "geo": st.sampled_from(["12.9, 77.5", "91,0", "x", " 1.0,2.0 "]),
}

USERS = {
    "entity": "users", "customer_id": "cid",
    "attributes": {
        "s": "s", "ls": "ls", "i": "i", "f": "f", "b": "b", "dec": "dec", "ts": "ts", "tz": "tz",
        "d": "d", "bin": "bin", "tags": "tags",
        "n": {"column": "num_text", "type": "number"},
        "yes": {"column": "bool_text", "type": "bool"},
        "when": {"column": "time_text", "type": "datetime"},
        "day": {"column": "time_text", "type": "date"},
        "i_text": {"column": "i", "type": "string"},
        "f_text": {"column": "f", "type": "string"},
        "b_text": {"column": "b", "type": "string"},
        "i_bool": {"column": "i", "type": "bool"},
        "f_bool": {"column": "f", "type": "bool"},
        "b_num": {"column": "b", "type": "number"},
        "ts_day": {"column": "ts", "type": "date"},
        "d_time": {"column": "d", "type": "datetime"},
    },
    "platforms": [{"platform": "android"}],
}
EVENTS_BY_COLUMN = {
    "entity": "events", "customer_id": "cid", "event_name_column": "s",
    "event_time_column": "time_text", "platform_column": "platform",
    "app_version_column": "version", "user_timezone_offset_column": "offset",
    "attributes": ["i", "f", "tags"],
}
EVENTS_BY_EPOCH = {
    "entity": "events", "customer_id": "cid", "event_name": "Login", "event_time_column": "epoch",
    "platform": "web", "app_version": "1.0", "user_timezone_offset": 60,
    "attributes": {"when": "ts", "n": {"column": "num_text", "type": "number"}},
}
CATALOG = {
    "entity": "catalog", "catalog": "products", "id_column": "cid", "title_column": "s",
    "link_column": "version", "image_link_column": "ls",
    "attributes": {"price": "f", "count": "i", "added": "tz", "on": "b",
                   "where": {"column": "geo", "type": "geopoint"}},
}
MAPPINGS = {
    "users": USERS,
    "users_send_nulls": {**USERS, "send_nulls": True},
    "users_reject_non_finite": {**USERS, "non_finite": "reject", "customer_id_whitespace": "keep"},
    "events_by_column": EVENTS_BY_COLUMN,
    "events_by_epoch": EVENTS_BY_EPOCH,
    "events_float_offset": {**EVENTS_BY_EPOCH, "user_timezone_offset": None,
                            "user_timezone_offset_column": "f"},
    "events_float_offset_reject": {**EVENTS_BY_EPOCH, "user_timezone_offset": None,
                                   "user_timezone_offset_column": "f", "non_finite": "reject"},
    "catalog": CATALOG,
    "catalog_keep_ids": {**CATALOG, "id_whitespace": "keep", "non_finite": "reject"},
}


_CONNECTION: list[duckdb.DuckDBPyConnection] = []


def _run(plan_sql: str, batch: pa.RecordBatch) -> tuple[list, list]:
    # One connection for all examples keeps the property test quick.
    if not _CONNECTION:
        _CONNECTION.append(duckdb.connect())
        _CONNECTION[0].execute("SET TimeZone = 'UTC'")
    connection = _CONNECTION[0]
    connection.register("__moengage_batch", batch)
    try:
        result = connection.sql(plan_sql).to_arrow_table()
    finally:
        connection.unregister("__moengage_batch")
    return result.column("__element").to_pylist(), result.column("__reject").to_pylist()


@st.composite
def batches(draw: st.DrawFn) -> pa.RecordBatch:
    rows = draw(st.integers(min_value=1, max_value=12))
    padding = st.sampled_from(["", " ", "\t", " \r\n"])
    columns = {"cid": pa.array([f"{draw(padding)}user-{n}{draw(padding)}" for n in range(rows)])}
    for name, data_type in TYPES.items():
        # About half the columns hold no null at all, so both kinds of plan are exercised.
        nullable = draw(st.booleans())
        value = st.one_of(st.none(), VALUES[name]) if nullable else VALUES[name]
        values = draw(st.lists(value, min_size=rows, max_size=rows))
        if name == "dec":
            values = [None if v is None else Decimal(v) for v in values]
        columns[name] = pa.array(values, data_type)
    return pa.record_batch(columns)


@pytest.mark.parametrize("name", sorted(MAPPINGS))
@settings(max_examples=30, deadline=None)
@given(batch=batches())
def test_plans_for_null_free_columns_write_the_same_bytes(name, batch):
    mapping = load_mapping(MAPPINGS[name])
    filled = filled_columns(batch, mapping.columns())
    general = compile_plan(mapping, batch.schema, now=NOW)
    knowing = compile_plan(mapping, batch.schema, now=NOW, filled=filled)
    assert _run(knowing.sql, batch) == _run(general.sql, batch)
    assert knowing.checks == general.checks


def test_the_serializer_uses_the_plan_of_each_batch():
    mapping = load_mapping({"entity": "users", "customer_id": "c", "attributes": ["v", "w"]})
    full = pa.record_batch({"c": ["u1", "u2"], "v": [1, 2], "w": ["a", "b"]})
    holed = pa.record_batch({"c": ["u3", "u4"], "v": [None, 4], "w": ["c", None]})
    with ElementSerializer(mapping, now=NOW) as serializer:
        elements = [
            *serializer.serialize(full).elements.to_pylist(),
            *serializer.serialize(holed).elements.to_pylist(),
        ]
        assert serializer.plan_for(full.schema, frozenset({"c", "v", "w"})).sql != (
            serializer.plan_for(full.schema).sql
        )
    assert elements == [
        '{"type":"customer","customer_id":"u1","attributes":{"v":1,"w":"a"}},',
        '{"type":"customer","customer_id":"u2","attributes":{"v":2,"w":"b"}},',
        '{"type":"customer","customer_id":"u3","attributes":{"w":"c"}},',
        '{"type":"customer","customer_id":"u4","attributes":{"v":4}},',
    ]


def test_columns_whose_validity_hides_nulls_never_count_as_filled():
    dictionary = pa.DictionaryArray.from_arrays(pa.array([0, 1]), pa.array(["a", None]))
    run_ends = pa.RunEndEncodedArray.from_arrays(pa.array([2], pa.int32()), pa.array([None]))
    batch = pa.record_batch(
        {"plain": ["user-1", "user-2"], "dictionary": dictionary, "run_ends": run_ends,
         "holed": ["x", None]}
    )
    assert dictionary.null_count == 0  # the null lives in the dictionary
    assert filled_columns(batch, ["plain", "dictionary", "run_ends", "holed", "absent"]) == {
        "plain"
    }
    mapping = load_mapping({"entity": "users", "customer_id": "plain",
                            "attributes": ["dictionary"]})
    with ElementSerializer(mapping, now=NOW) as serializer:
        elements = serializer.serialize(batch.select(["plain", "dictionary"])).elements
    assert elements.to_pylist() == [
        '{"type":"customer","customer_id":"user-1","attributes":{"dictionary":"a"}},',
        '{"type":"customer","customer_id":"user-2","attributes":{}},',
    ]
