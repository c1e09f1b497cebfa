"""A push killed with SIGKILL, then the same command again: nothing lost, duplicates bounded.

The first command runs as a real subprocess of the CLI against the emulator on a real socket,
with the delivery state in DuckDB or PostgreSQL; it is killed while bodies are in flight. The
second command is the same one. Every event must then be in MoEngage, and only the bodies that
were in flight at the kill (sent, answer never recorded) may be there twice.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.warehouse import Warehouse
from tests.push.cli_process import emulator_env, kill_once, push_command

ROWS = 3_000
MAPPING = {
    "entity": "events", "customer_id": "uid", "event_name": "Bought",
    "attributes": {"note": "note"},
}


def _command(tmp_path: Path, url: str, state: str) -> tuple[list[str], dict[str, str]]:
    source = tmp_path / "events.parquet"
    if not source.exists():
        pq.write_table(pa.table({
            "uid": [f"user-{i % 97}" for i in range(ROWS)],
            "note": [f"row-{i:05d}" for i in range(ROWS)],
        }), source)
        (tmp_path / "events.yml").write_text(yaml.safe_dump(MAPPING))
    return push_command("events", source, tmp_path / "events.yml", state), emulator_env(url)


def _notes(emulator) -> Counter:
    return Counter(event["attributes"]["note"] for event in emulator.inspect.events())


def test_sigkill_then_the_same_command_loses_nothing(
    tmp_path, moengage_emulator_server, state_url
):
    emulator = moengage_emulator_server.emulator
    # Slow answers keep bodies in flight, so the kill lands while requests are out.
    emulator.faults.add(FaultRule(endpoint="transition", kind="latency", seconds=0.05))
    command, env = _command(tmp_path, moengage_emulator_server.url, state_url)
    kill_once(command, env, lambda: sum(_notes(emulator).values()) >= ROWS // 3)
    before = sum(_notes(emulator).values())
    assert 0 < before < ROWS

    with Warehouse.open(state_url) as warehouse:
        rows = PushLedger(warehouse).read().to_pylist()
    answered = {(row["body_seq"], row["piece"]) for row in rows if row["status"] != "sending"}
    in_flight = [
        row for row in rows
        if row["status"] == "sending" and (row["body_seq"], row["piece"]) not in answered
    ]
    emulator.faults.clear()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "error" not in again.stderr

    received = _notes(emulator)
    assert set(received) == {f"row-{i:05d}" for i in range(ROWS)}  # nothing lost
    duplicates = sum(received.values()) - ROWS
    # At least once: only the bodies in flight at the kill can be there twice.
    assert len(in_flight) <= 3
    assert duplicates <= sum(row["rows"] for row in in_flight)
    assert "rows skipped:" in again.stdout
