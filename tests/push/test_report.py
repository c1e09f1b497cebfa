"""Reports of several partitions combine into one honest report."""

from __future__ import annotations

from collections import Counter

import pytest

from moengage_pipelines.push.report import PushReport


def _day(partition: str, *, rows: int, bodies: int, largest: int, rejects: dict) -> PushReport:
    report = PushReport(
        sync_name="moengage/events",
        entity="events",
        partition=partition,
        rows_read=rows,
        rows_valid=rows - sum(rejects.values()),
        bodies=bodies,
        bytes_sent=bodies * 90_000,
        max_body_bytes=100_000,
        largest_body_bytes=largest,
        duration_seconds=2.0,
    )
    for rule, count in rejects.items():
        report.reject(rule, count)
    return report


def test_counts_add_up_and_peaks_stay_peaks() -> None:
    days = [
        _day("2025-03-03", rows=100, bodies=2, largest=99_000, rejects={"future_event_time": 1}),
        _day("2025-03-04", rows=300, bodies=3, largest=97_500, rejects={"future_event_time": 2}),
    ]
    combined = PushReport.combine(days)
    assert combined.partition == "2025-03-03...2025-03-04"
    assert combined.rows_read == 400
    assert combined.bodies == 5
    assert combined.largest_body_bytes == 99_000
    assert combined.max_body_bytes == 100_000
    assert combined.rejected_by_rule == Counter({"future_event_time": 3})
    assert combined.fill_ratio == pytest.approx(0.9)
    assert combined.rows_per_second == pytest.approx(100.0)
    metadata = combined.to_metadata()
    assert metadata["largest_body_bytes"] <= metadata["max_body_bytes"]
    assert metadata["rejected_future_event_time"] == 3


def test_combining_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        PushReport.combine([])
