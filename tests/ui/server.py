"""``make dev`` on a free port, for the browser tests: start it, wait for it, ask it GraphQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 180


@dataclass(frozen=True)
class DagsterUI:
    """A running ``dg dev`` (webserver and daemon) on the demo warehouse and emulator."""

    url: str
    home: Path
    log: Path

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """Run a GraphQL query against the webserver; return its ``data``."""
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query, "variables": variables}, timeout=30
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


ASSET_KEYS = "{ assetNodes { assetKey { path } } }"


def _wait_until_loaded(ui: DagsterUI, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"make dev exited:\n{ui.log.read_text()[-4000:]}")
        try:
            if ui.graphql(ASSET_KEYS)["assetNodes"]:
                return
        except (httpx.HTTPError, AssertionError, KeyError, TypeError):
            pass
        time.sleep(1)
    raise RuntimeError(f"the Dagster UI did not load in time:\n{ui.log.read_text()[-4000:]}")


@contextmanager
def running_dagster_ui(home: Path) -> Iterator[DagsterUI]:
    """Run ``python -m dagster_project.dev`` with ``DAGSTER_HOME=home`` on a free port."""
    port = free_port()
    log = home / "dev.log"
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "dagster_project.dev", "--port", str(port)]
    with log.open("w") as output:
        # A session of its own: the webserver, daemon and code server are its children and
        # stop with it.
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=output, start_new_session=True
        )
    ui = DagsterUI(f"http://127.0.0.1:{port}", home, log)
    try:
        _wait_until_loaded(ui, process)
        yield ui
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
