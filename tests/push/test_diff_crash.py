"""A users diff sync killed with SIGKILL, then the same command: exactly the rows MoEngage
never confirmed are sent, and every user ends up stored.

The CLI runs as a real subprocess against the emulator on a real socket, with the state in
DuckDB or PostgreSQL (``state_url``), and is killed while bodies are in flight.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.push.diff import SYNC_STATE_TABLE
from moengage_pipelines.warehouse import Warehouse
from tests.push.cli_process import emulator_env, kill_once, push_command

ROWS = 3_000
MAPPING = {"entity": "users", "customer_id": "uid", "attributes": {"note": "note"}}


def _command(tmp_path: Path, url: str, state: str) -> tuple[list[str], dict[str, str]]:
    source = tmp_path / "users.parquet"
    pq.write_table(pa.table({
        "uid": [f"user-{i:05d}" for i in range(ROWS)],
        "note": [f"note-{i:05d}" for i in range(ROWS)],
    }), source)
    (tmp_path / "users.yml").write_text(yaml.safe_dump(MAPPING))
    return push_command("users", source, tmp_path / "users.yml", state), emulator_env(url)


def _sent(stdout: str) -> int:
    return int(re.search(r"^users sent: +([\d,]+)", stdout, re.M).group(1).replace(",", ""))


def test_sigkill_then_the_same_command_sends_exactly_the_unconfirmed_rows(
    tmp_path, moengage_emulator_server, state_url
):
    emulator = moengage_emulator_server.emulator
    emulator.faults.add(FaultRule(endpoint="transition", kind="latency", seconds=0.1))
    command, env = _command(tmp_path, moengage_emulator_server.url, state_url)
    # Past two thirds, confirmations (written at least every second) are in the state.
    kill_once(command, env, lambda: len(emulator.inspect.users()) >= 2 * ROWS // 3)
    assert len(emulator.inspect.users()) < ROWS

    with Warehouse.open(state_url) as warehouse:
        confirmed = warehouse.query(
            f"SELECT count(*) FROM {SYNC_STATE_TABLE} WHERE element_hash IS NOT NULL"
        ).column(0)[0].as_py()
        pending = warehouse.query(
            f"SELECT count(*) FROM {SYNC_STATE_TABLE} "
            "WHERE pending_hash IS NOT NULL AND element_hash IS NULL"
        ).column(0)[0].as_py()
    assert 0 < confirmed < ROWS and pending > 0

    emulator.faults.clear()
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert _sent(again.stdout) == ROWS - confirmed
    assert f"retrying:      {pending:,} rows" in again.stdout
    assert len(emulator.inspect.users()) == ROWS

    third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert third.returncode == 0 and _sent(third.stdout) == 0
    assert f"{ROWS:,} unchanged (not sent)" in third.stdout
    with Warehouse.open(state_url) as warehouse:
        stored = warehouse.query(
            "SELECT count(*) AS total, count(DISTINCT row_key) AS keys "
            f"FROM {SYNC_STATE_TABLE}"
        ).to_pylist()
    # The killed run's writes left no key twice (a DuckDB state's table has no key of its own).
    assert stored == [{"total": ROWS, "keys": ROWS}]
