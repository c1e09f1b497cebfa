"""A push killed with SIGKILL, then the same command again: nothing lost, duplicates bounded.

The first command runs as a real subprocess of the CLI against the emulator on a real socket,
with the delivery state in DuckDB or PostgreSQL; it is killed while bodies are in flight. The
second command is the same one. Every event must then be in MoEngage, and only the bodies that
were in flight at the kill (sent, answer never recorded) may be there twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
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
    command = [
        sys.executable, "-m", "moengage_pipelines.cli", "push", "events",
        "--source", str(source), "--mapping", str(tmp_path / "events.yml"),
        "--state", state, "--max-body-bytes", "2000", "--concurrency", "3",
    ]
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "MOENGAGE_BASE_URL": url,
        "MOENGAGE_WORKSPACE_ID": "TEST_WORKSPACE", "MOENGAGE_DATA_API_KEY": "test-data-key",
        "MOENGAGE_CAMPAIGN_API_KEY": "test-campaign-key", "MOENGAGE_RATE_BUDGET_STORE": "memory",
    }
    return command, env


def _notes(emulator) -> Counter:
    return Counter(event["attributes"]["note"] for event in emulator.inspect.events())


def test_sigkill_then_the_same_command_loses_nothing(
    tmp_path, moengage_emulator_server, state_url
):
    emulator = moengage_emulator_server.emulator
    # Slow answers keep bodies in flight, so the kill lands while requests are out.
    emulator.faults.add(FaultRule(endpoint="transition", kind="latency", seconds=0.05))
    command, env = _command(tmp_path, moengage_emulator_server.url, state_url)
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while sum(_notes(emulator).values()) < ROWS // 3:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the push did not get going"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
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
