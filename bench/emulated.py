"""(c) The engine through the emulator on loopback: 4 processes, one workspace budget.

The emulator runs MoEngage's real bulk-import budgets (60,000 events a minute) with time
compressed by ``time_scale``; the four pushing processes share one SQLite rate budget with the
same scale. The result says how much of the budget the push used and how many 429s it met.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from moengage_pipelines.limits import TRANSITION_EVENTS_PER_MINUTE

WORKERS = 4


def run_emulated(parts: list[Path], *, time_scale: float, limit: int) -> dict:
    """Push ``parts`` (one per process) to a fresh emulator server; return the totals."""
    from moengage_pipelines.emulator import Emulator, EmulatorSettings, serve

    settings = EmulatorSettings(time_scale=time_scale)
    with (
        Emulator(settings) as emulator,
        serve(emulator) as url,
        tempfile.TemporaryDirectory(prefix="bench-budget-") as scratch,
    ):
        budget = str(Path(scratch) / "budget.sqlite")

        def push(part: Path) -> dict:
            command = [sys.executable, "-m", "bench.measure", "worker", str(part), url, budget,
                       str(time_scale), str(limit)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode:
                raise RuntimeError(f"bench worker failed:\n{done.stderr[-3000:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])

        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            results = list(pool.map(push, parts))
        # From the first worker's first row to the last worker's last body (start-up excluded).
        elapsed = max(r["ended_at"] for r in results) - min(r["started_at"] for r in results)
        received = len(emulator.inspect.events())
        refused = emulator.inspect.counters().get("transition", {}).get("429", 0)
    sent = sum(result["rows_sent"] for result in results)
    # The most a sliding window lets through in ``elapsed``: a full window's worth at once,
    # then another each time a window has passed (60,000 events a scaled minute).
    window = 60 / time_scale
    allowed = TRANSITION_EVENTS_PER_MINUTE * (math.floor(elapsed / window) + 1)
    return {
        "rows": sum(result["rows"] for result in results),
        "rows_sent": sent,
        "received": received,
        "bodies": sum(result["bodies"] for result in results),
        "bytes": sum(result["bytes"] for result in results),
        "largest_body": max(result["largest_body"] for result in results),
        "rejected": sum(result["rejected"] for result in results),
        "http_429": refused,
        "client_429": sum(result["http_429"] for result in results),
        "failed_bodies": sum(result["failed_bodies"] for result in results),
        "seconds": elapsed,
        "peak_rss_mb": max(result["peak_rss_mb"] for result in results),
        "cpu_seconds": sum(result["cpu_seconds"] for result in results),
        "budget_share": sent / allowed if allowed else 0.0,
    }
