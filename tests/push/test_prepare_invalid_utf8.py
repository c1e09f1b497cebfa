"""String values that are not UTF-8 fail their row, never a body; no element is invalid JSON."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.prepare.invalid_utf8 import repair_utf8
from moengage_pipelines.push.prepare.plan import BATCH_VIEW, compile_plan
from moengage_pipelines.push.prepare.serializer import ElementSerializer
from moengage_pipelines.sources import ParquetSource

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def unchecked_strings(values: list[bytes | None]) -> pa.Array:
    """A *string* array holding the bytes as they are, as a careless writer produces it."""
    raw = pa.array(values, pa.binary())
    return pa.Array.from_buffers(pa.string(), len(raw), raw.buffers(), null_count=raw.null_count)


def _elements(result) -> list[dict | None]:
    return [None if text is None else orjson.loads(text[:-1])
            for text in result.elements.to_pylist()]


EVENTS = {
    "entity": "events", "customer_id": "uid", "event_name_column": "name",
    "event_time_column": "at", "attributes": ["note", "price"],
}


def test_a_file_with_three_bad_rows_loses_three_rows_not_a_body(
    tmp_path: Path, client, moengage_emulator, dead_letters
):
    n = 2_000
    uids = [f"user-{i % 97}".encode() for i in range(n)]
    names = [b"Purchase"] * n
    notes = [f"note {i} caf\u00e9".encode() for i in range(n)]
    uids[10] = b"user-\xff10"  # DuckDB's trim() would stop the whole query on this one
    names[700] = b"Purch\xc3ase"
    notes[1_999] = b"truncated \xe2\x82"
    path = tmp_path / "events.parquet"
    pq.write_table(
        pa.table({
            "uid": unchecked_strings(uids), "name": unchecked_strings(names),
            "at": pa.array([dt.datetime(2025, 1, 1) + dt.timedelta(seconds=i) for i in range(n)],
                           pa.timestamp("us")),
            "note": unchecked_strings(notes), "price": [i / 4 for i in range(n)],
        }),
        path,
    )
    # pyarrow writes and reads the file without complaint.
    assert pq.read_table(path).column("note").type == pa.string()

    report = run_push(
        ParquetSource(path), EVENTS, client, sync_name="events", dead_letters=dead_letters,
        ledger=None, options=PushOptions(max_body_bytes=60_000, batch_rows=500),
    )

    assert report.failed_bodies == 0 and report.failed_rows == 0
    assert report.events_sent == n - 3
    assert dict(report.rejected_by_rule) == {"invalid_utf8": 3}
    received = moengage_emulator.inspect.events()
    assert len(received) == n - 3
    assert {e["attributes"]["note"] for e in received} == {
        f"note {i} caf\u00e9" for i in range(n) if i not in {10, 700, 1_999}
    }
    assert moengage_emulator.inspect.dropped() == []
    letters = dead_letters.read("events").to_pylist()
    assert [(letter["row_number"], letter["rule"], letter["column"]) for letter in letters] == [
        (10, "invalid_utf8", "uid"), (700, "invalid_utf8", "name"),
        (1_999, "invalid_utf8", "note"),
    ]
    assert "not valid UTF-8" in letters[0]["message"]
    # The bad bytes are shown escaped, the rest of the row as it was.
    assert orjson.loads(letters[0]["row"])["uid"] == "user-\\xff10"
    assert orjson.loads(letters[2]["row"])["note"] == "truncated \\xe2\\x82"
    assert orjson.loads(letters[2]["row"])["price"] == 1_999 / 4


def test_nested_and_dictionary_values_and_unmapped_columns():
    strings = unchecked_strings([b"ok", b"\xff", b"fine", b"x", b"y", b"z"])
    tags = pa.ListArray.from_arrays([0, 1, 3, 4, 5, 6], strings.slice(0, 6))
    address = pa.StructArray.from_arrays(
        [unchecked_strings([b"Pune", b"Delhi", b"Go\xa0a", b"Agra", b"Goa"]),
         pa.array([1, 2, 3, 4, 5])], names=["city", "pin"])
    plan = pa.DictionaryArray.from_arrays(
        pa.array([0, 1, 0, 0, 1], pa.int32()), unchecked_strings([b"gold", b"si\xfflver"]))
    batch = pa.record_batch({
        "cid": [f"user-{i}" for i in range(5)], "tags": tags, "address": address, "plan": plan,
        # Not mapped: repaired so that dead letters can show it, never a reason to reject.
        "comment": unchecked_strings([b"a", b"b", b"c", b"\x80", b"e"]),
    })
    mapping = load_mapping({"entity": "users", "customer_id": "cid",
                            "attributes": ["tags", "address", "plan"]})
    with ElementSerializer(mapping, now=NOW) as serializer:
        result = serializer.serialize(batch)
    rejected = [(int(row), check.rule, check.column)
                for row, check in zip(result.rejected, result.rejected_checks, strict=True)]
    assert rejected == [(1, "invalid_utf8", "tags"), (2, "invalid_utf8", "address"),
                        (4, "invalid_utf8", "plan")]
    elements = _elements(result)
    assert elements[0]["attributes"] == {
        "tags": ["ok"], "address": {"city": "Pune", "pin": 1}, "plan": "gold"}
    assert elements[3]["attributes"] == {
        "tags": ["y"], "address": {"city": "Agra", "pin": 4}, "plan": "gold"}
    assert elements[1] is None and elements[2] is None and elements[4] is None
    # The batch handed back (for dead letters) reads as text everywhere.
    shown = result.batch.to_pylist()
    assert shown[3]["comment"] == "\\x80"
    assert shown[4]["plan"] == "si\\xfflver"
    assert shown[1]["tags"] is None  # a nested value with bad bytes is shown as null


def test_the_repair_leaves_valid_batches_alone():
    batch = pa.record_batch({"cid": ["a1", "b2"], "s": ["caf\u00e9", "\u2615"]})
    repair = repair_utf8(batch, ["cid", "s"])
    assert repair.batch is batch and repair.marked is batch and repair.columns == frozenset()


@pytest.mark.parametrize("rows", [1, 31, 32, 33, 1_000])
def test_bisection_finds_every_bad_row(rows):
    values = [f"v{i}".encode() for i in range(rows)]
    bad = {i for i in range(rows) if i % 7 == 3}
    for i in bad:
        values[i] = b"\xc0\xaf"  # an overlong encoding
    repair = repair_utf8(pa.record_batch({"s": unchecked_strings(values)}), ["s"])
    marker = repair.marked.column(repair.marked.num_columns - 1).to_pylist() if bad else []
    assert {i for i, flag in enumerate(marker) if flag} == bad
    assert repair.columns == (frozenset({"s"}) if bad else frozenset())


def test_maps_and_large_strings_sliced():
    keys = unchecked_strings([b"a", b"\xffb", b"c"])
    weights = pa.MapArray.from_arrays([0, 1, 2, 3], keys, pa.array([1.0, 2.0, 3.0])).slice(1, 2)
    raw = pa.array([b"x", b"y\xfe", b"z"], pa.large_binary())
    notes = pa.Array.from_buffers(pa.large_string(), 3, raw.buffers()).slice(1, 2)
    repair = repair_utf8(pa.record_batch({"weights": weights, "notes": notes}),
                         ["weights", "notes"])
    assert repair.columns == {"weights", "notes"}
    assert repair.batch.to_pylist() == [{"weights": None, "notes": "y\\xfe"},
                                        {"weights": [("c", 3.0)], "notes": "z"}]
    markers = repair.marked.select([2, 3]).to_pylist()
    assert [list(row.values()) for row in markers] == [[True, True], [False, False]]


def test_chunked_tables_are_repaired_chunk_by_chunk():
    table = pa.Table.from_batches([
        pa.record_batch({"cid": unchecked_strings([b"user-1", b"user-2"])}),
        pa.record_batch({"cid": unchecked_strings([b"user-\xfe", b"user-4"])}),
    ])
    mapping = load_mapping({"entity": "users", "customer_id": "cid"})
    with ElementSerializer(mapping, now=NOW) as serializer:
        result = serializer.serialize(table)
    assert result.rejected.tolist() == [2]
    assert [e and e["customer_id"] for e in _elements(result)] == [
        "user-1", "user-2", None, "user-4"]


def test_the_guard_rejects_a_value_that_is_not_json():
    # Bypass the repair: DuckDB's to_json writes nothing for bytes that are not UTF-8, which
    # would give '"note":}'. The guard turns that row into a rejection instead.
    batch = pa.record_batch({"cid": ["user-1", "user-2"],
                             "note": unchecked_strings([b"fine", b"bad \xff"])})
    mapping = load_mapping({"entity": "users", "customer_id": "cid", "attributes": ["note"]})
    plan = compile_plan(mapping, batch.schema, now=NOW, filled=frozenset({"cid", "note"}))
    connection = duckdb.connect()
    connection.register(BATCH_VIEW, batch)
    result = connection.sql(plan.sql).to_arrow_table()
    rejects = result.column("__reject").to_pylist()
    assert rejects[0] is None
    assert plan.checks[rejects[1]].rule == "invalid_json"
    assert plan.checks[rejects[1]].column == "note"
    elements = result.column("__element").to_pylist()
    assert orjson.loads(elements[0][:-1])["attributes"] == {"note": "fine"}
    assert elements[1] is None
