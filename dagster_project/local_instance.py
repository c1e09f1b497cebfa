"""Prepare the local Dagster instance and the demo environment shared by ``make demo``/``dev``."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")
URL_LINE = re.compile(r"(https?://127\.0\.0\.1:\d+)")

__all__ = ["DEMO_CREDENTIALS", "dagster_home", "demo_environment", "running_emulator"]

# Credentials the demo's emulator accepts; real deployments set their own variables.
DEMO_CREDENTIALS = {
    "MOENGAGE_WORKSPACE_ID": "DEMO_WORKSPACE",
    "MOENGAGE_DATA_API_KEY": "demo-data-key",
    "MOENGAGE_CAMPAIGN_API_KEY": "demo-campaign-key",
}


def dagster_home() -> Path:
    """Create ``$DAGSTER_HOME`` (default ``.dagster_home``) with the project's instance settings."""
    home = Path(os.environ.get("DAGSTER_HOME") or REPO / ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != INSTANCE_TEMPLATE.read_bytes():
        shutil.copyfile(INSTANCE_TEMPLATE, target)
    return home


@contextmanager
def running_emulator(database: Path | None = None) -> Iterator[str]:
    """Start ``moengage-pipelines emulator`` on a free loopback port; yield its URL; stop it."""
    command = [sys.executable, "-m", "moengage_pipelines.cli", "emulator", "--host", "127.0.0.1"]
    command += ["--port", "0"]
    if database is not None:
        command += ["--database", str(database)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()
    )
    try:
        url = None
        seen = []
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            match = URL_LINE.search(line)
            if match:
                url = match.group(1)
                break
        if url is None:
            raise RuntimeError("the emulator did not start:\n" + "".join(seen))
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def demo_environment(warehouse: Path, results: Path, emulator_url: str) -> dict[str, str]:
    """Environment variables pointing the Dagster project at the sample data and the emulator."""
    env = {**DEMO_CREDENTIALS, **os.environ}
    env["MOENGAGE_BASE_URL"] = emulator_url
    env["MOENGAGE_WAREHOUSE_URL"] = f"duckdb:///{warehouse}"
    env["MOENGAGE_RESULTS_URL"] = f"duckdb:///{results}"
    env["DAGSTER_HOME"] = str(dagster_home())
    return env
