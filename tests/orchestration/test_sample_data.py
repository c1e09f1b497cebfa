"""The sample data: dated relative to today, the same rows for a given day."""

from datetime import UTC, date, datetime, timedelta

import pyarrow.compute as pc
import pyarrow.parquet as pq

from sample_data.generate import (
    DAYS,
    DEMO_DAY,
    FIRST_DAY,
    demo_day_for,
    generate,
    sample_files,
    sample_tables,
)


def test_the_demo_day_is_yesterday_and_the_data_covers_the_30_days_ending_on_it() -> None:
    assert demo_day_for(date(2026, 6, 15)) == date(2026, 6, 14)
    today = datetime.now(UTC).date()
    # Fixed at import: a session that crossed midnight since then sees the day before.
    assert today - DEMO_DAY in (timedelta(days=1), timedelta(days=2))
    assert DAYS == 30
    assert (DEMO_DAY - FIRST_DAY).days == DAYS - 1
    events = sample_tables()["events"]
    days = {value.as_py().date() for value in events.column("event_time")}
    loaded = {value.as_py().date() for value in events.column("loaded_at")}
    assert {FIRST_DAY + timedelta(days=n) for n in range(DAYS)} <= loaded
    # Only the planted broken-clock event lies outside the 30 days (plus a spill past midnight).
    assert [day for day in days if day > DEMO_DAY] == [date(2099, 1, 1)]


def test_the_same_day_gives_the_same_rows_and_another_day_only_moves_the_dates() -> None:
    day = date(2026, 6, 15)
    first, again = sample_tables(day), sample_tables(day)
    assert all(first[name].equals(again[name]) for name in first)
    later = sample_tables(day + timedelta(days=10))
    assert later["events"].column("event_id").equals(first["events"].column("event_id"))
    shift = pc.subtract(later["events"]["loaded_at"], first["events"]["loaded_at"])
    assert set(shift.to_pylist()) == {timedelta(days=10)}


def test_planted_bad_rows_sit_on_the_demo_day() -> None:
    day = date(2026, 6, 15)
    users = sample_tables(day)["users"].to_pylist()
    bad = [u for u in users if not u["customer_id"].startswith("cust-")]
    assert {u["customer_id"] for u in bad} == {"guest", ""}
    assert {u["updated_at"].date() for u in bad} == {day}


def test_files_are_written_again_only_when_dated_for_another_day(tmp_path) -> None:
    old = generate(tmp_path, date(2026, 1, 10))
    stamp = old["events"].stat().st_mtime_ns
    assert sample_files(tmp_path, date(2026, 1, 10))["events"].stat().st_mtime_ns == stamp
    fresh = sample_files(tmp_path, date(2026, 1, 11))
    loaded = pq.read_table(fresh["events"], columns=["loaded_at"]).column(0)
    assert max(v.as_py().date() for v in loaded) >= date(2026, 1, 11)
