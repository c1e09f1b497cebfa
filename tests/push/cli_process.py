"""The push CLI as a real subprocess against the emulator's server, killed mid-push."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def push_command(entity: str, source: Path, mapping: Path, state: str) -> list[str]:
    """``moengage-pipelines push`` of ``source`` in small bodies, three in flight."""
    return [
        sys.executable, "-m", "moengage_pipelines.cli", "push", entity,
        "--source", str(source), "--mapping", str(mapping),
        "--state", state, "--max-body-bytes", "2000", "--concurrency", "3",
    ]


def emulator_env(url: str) -> dict[str, str]:
    """The environment pointing the CLI at the emulator at ``url``."""
    return {
        **os.environ, "PYTHONPATH": str(ROOT), "MOENGAGE_BASE_URL": url,
        "MOENGAGE_WORKSPACE_ID": "TEST_WORKSPACE", "MOENGAGE_DATA_API_KEY": "test-data-key",
        "MOENGAGE_CAMPAIGN_API_KEY": "test-campaign-key", "MOENGAGE_RATE_BUDGET_STORE": "memory",
    }


def kill_once(command: list[str], env: dict[str, str], reached: Callable[[], bool]) -> None:
    """Run ``command`` and SIGKILL it as soon as ``reached()`` holds (bodies still in flight)."""
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not reached():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the push did not get going"
            time.sleep(0.01)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
