"""``moengage-pipelines push``: dry run and a real push to the emulator's server."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.cli import main

MAPPING = """
entity: events
customer_id: uid
event_name: Purchase
event_time_column: at
attributes: [price]
"""


@pytest.fixture
def files(tmp_path):
    table = pa.table(
        {
            "uid": ["user-1", "null", "user-3", "user-4"],
            "at": pa.array([dt.datetime(2025, 5, 1, 10), dt.datetime(2025, 5, 1, 11),
                            dt.datetime(2025, 5, 2, 9), dt.datetime(2025, 5, 1, 23)],
                           pa.timestamp("us")),
            "price": [1.0, 2.0, 3.0, 4.0],
        }
    )
    source = tmp_path / "events.parquet"
    pq.write_table(table, source)
    mapping = tmp_path / "events.yml"
    mapping.write_text(MAPPING)
    return source, mapping


def test_dry_run_prints_totals(files, capsys, monkeypatch):
    monkeypatch.delenv("MOENGAGE_WORKSPACE_ID", raising=False)
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0
    assert "rows read:     4" in out
    assert "rows valid:    3" in out
    assert "rows rejected: 1" in out
    assert "banned_customer_id: 1" in out
    assert "events packed (dry run): 3" in out
    assert "bodies:        1" in out


def test_day_window_and_dead_letters(files, capsys, tmp_path):
    source, mapping = files
    results = tmp_path / "results.duckdb"
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run", "--day", "2025-05-01", "--time-column", "at",
                 "--dead-letters", f"duckdb:///{results}", "--sync-name", "cli-test"])
    assert code == 0
    assert "rows read:     3" in capsys.readouterr().out
    from moengage_pipelines.push.dead_letters import DeadLetterWriter
    from moengage_pipelines.warehouse import Warehouse

    with Warehouse.open(f"duckdb:///{results}") as warehouse:
        assert DeadLetterWriter(warehouse).count("cli-test") == 1


def test_entity_must_match_the_mapping(files, capsys):
    source, mapping = files
    code = main(["push", "users", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run"])
    assert code == 2
    assert "maps events, not users" in capsys.readouterr().err


def test_window_needs_a_time_column(files, capsys):
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run", "--day", "2025-05-01"])
    assert code == 2
    assert "--time-column" in capsys.readouterr().err


def test_real_push_to_the_emulator_server(files, capsys, monkeypatch, emulator_server):
    source, mapping = files
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", "TEST_WORKSPACE")
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", "test-data-key")
    monkeypatch.setenv("MOENGAGE_BASE_URL", emulator_server.url)
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--max-body-bytes", "300"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "events sent: 3" in out
    received = emulator_server.emulator.inspect.events()
    assert sorted(event["customer_id"] for event in received) == ["user-1", "user-3", "user-4"]
    assert "test-data-key" not in out
