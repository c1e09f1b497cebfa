"""Epoch milliseconds read as seconds are rejected with a hint, and counted per push."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.prepare.serializer import ElementSerializer

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
MS = int(dt.datetime(2025, 3, 5, tzinfo=dt.UTC).timestamp() * 1000)  # 1741132800000


def _mapping(**extra) -> dict:
    return {"entity": "events", "customer_id": "cid", "event_name": "Opened",
            "event_time_column": "at", **extra}


def _rejects(mapping: dict, at: pa.Array):
    batch = pa.record_batch({"cid": [f"user-{i}" for i in range(len(at))], "at": at})
    with ElementSerializer(load_mapping(mapping), now=NOW) as serializer:
        result = serializer.serialize(batch)
    return [(int(row), check.rule, check.message)
            for row, check in zip(result.rejected, result.rejected_checks, strict=True)]


@pytest.mark.parametrize("data_type", [pa.int64(), pa.float64(), pa.uint64()])
def test_milliseconds_read_as_seconds_say_so(data_type):
    seconds = MS // 1000
    at = pa.array([seconds, MS, MS * 1000, 99_999_999_999], data_type)
    got = _rejects(_mapping(), at)
    assert [(row, rule) for row, rule, _ in got] == [
        (1, "event_time_in_milliseconds"),
        (2, "invalid_datetime"),  # microseconds: no time at all as seconds
        (3, "future_event_time"),  # just below the year 5138 as seconds: no hint
    ]
    message = got[0][2]
    assert "looks like epoch milliseconds" in message
    assert "set event_time_unit: ms in the mapping" in message


def test_the_hint_is_only_for_seconds():
    assert _rejects(_mapping(event_time_unit="ms"), pa.array([MS, MS * 1000])) == [
        (1, "future_event_time",
         "event time is in the future; MoEngage does not accept future events")
    ]


def test_a_millisecond_time_after_now_is_a_future_time():
    future_ms = int(NOW.timestamp() * 1000) + 60_000
    assert [rule for _, rule, _ in _rejects(_mapping(), pa.array([future_ms]))] == [
        "future_event_time"]


def test_the_push_counts_them(parquet_source):
    rows = {"cid": ["user-1", "user-2", "user-3"],
            "at": [MS // 1000, MS, MS + 1_000]}
    report = run_push(parquet_source(rows), _mapping(), None, sync_name="events", ledger=None,
                      dead_letters=None, options=PushOptions(dry_run=True, now=NOW))
    assert report.rejected_by_rule["event_time_in_milliseconds"] == 2
    assert report.to_metadata()["rejected_event_time_in_milliseconds"] == 2
    assert report.events_sent == 1
