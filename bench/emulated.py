"""(c) The engine through the emulator on loopback: 4 processes, one workspace budget.

The emulator runs MoEngage's real bulk-import budget (60,000 events a minute) with time
compressed by ``time_scale``; the four pushing processes share one SQLite rate budget with the
same scale. The workers load and prepare everything first, then start together on a signal, so
the measured span is pushing only.

Budget used (``budget_share``) is how fast the workers recycled the shared budget (see
``_pacing``): the long-run share of the budget rate the push sustains. The emulator's own
counts per fixed window are reported next to it (``window_share``: the windows strictly
between the first and the last, which are partial by construction). Over a few windows those
counts depend on where the bursts of a sliding-window sender fall relative to the window
boundaries (a burst cut by a boundary costs that window the cycle's slack), so they can read
several points above or below what the push sustains; they agree over long runs.
"""

from __future__ import annotations

import bisect
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from moengage_pipelines.limits import TRANSITION_EVENTS_PER_MINUTE

WORKERS = 4
EVENTS_POOL = "transition_events"


def _start_workers(parts: list[Path], url: str, budget: str, time_scale: float,
                   limit: int, concurrency: int) -> list[subprocess.Popen[str]]:
    workers = []
    for part in parts:
        command = [sys.executable, "-m", "bench.measure", "worker", str(part), url, budget,
                   str(time_scale), str(limit), str(concurrency)]
        workers.append(subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True))
    return workers


def _run_together(workers: list[subprocess.Popen[str]]) -> list[dict[str, Any]]:
    """Wait until every worker is ready, start them at once, collect their results."""
    for worker in workers:
        line = worker.stdout.readline() if worker.stdout else ""
        if line.strip() != "ready":
            _, error = worker.communicate()
            raise RuntimeError(f"bench worker did not start:\n{line}{error[-3000:]}")
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()

    def finish(worker: subprocess.Popen[str]) -> dict[str, Any]:
        output, error = worker.communicate()
        if worker.returncode:
            raise RuntimeError(f"bench worker failed:\n{error[-3000:]}")
        return json.loads(output.strip().splitlines()[-1])

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        return list(pool.map(finish, workers))


def _window_figures(usage: dict[str, dict[str, Any]], workspace: str) -> dict[str, Any]:
    """Budget used from the emulator's fixed windows of the bulk-import events pool."""
    pool = next(
        (entry for entry in usage.values()
         if entry["pool"] == EVENTS_POOL and entry["workspace"] == workspace),
        None,
    )
    if pool is None:
        return {"windows": [], "window_share": 0.0, "whole_run_share": 0.0, "interior": 0}
    limit = pool["limit"]
    touched = {int(index): counts["admitted"] for index, counts in pool["per_window"].items()
               if counts["admitted"]}
    if not touched:
        return {"windows": [], "window_share": 0.0, "whole_run_share": 0.0, "interior": 0}
    first, last = min(touched), max(touched)
    admitted = [touched.get(index, 0) for index in range(first, last + 1)]
    interior = admitted[1:-1]
    return {
        "windows": admitted,
        "limit": limit,
        "interior": len(interior),
        "window_share": sum(interior) / (limit * len(interior)) if interior else float("nan"),
        "whole_run_share": sum(admitted) / (limit * len(admitted)),
    }


def _pacing(admissions: list[list[float]], limit: int, window: float) -> dict[str, Any]:
    """How fast the workers recycled the budget, from when each request was admitted.

    A sliding window admits an event only once the event ``limit`` events before it has left
    the window: a perfect sender admits event ``k`` exactly one window after event
    ``k - limit``. For every body after the first window's worth, the gap between its
    admission and that of the body holding event ``k - limit`` is measured; the share of the
    budget sustained is ``window / mean gap`` (weighted by events). Unlike counts per fixed
    window, it does not depend on where the bursts fall relative to the window boundaries.
    """
    rows = sorted((admitted, answered, events) for admitted, answered, events in admissions
                  if events)
    if not rows:
        return {"client_windows": [], "budget_share": float("nan"),
                "cycle_seconds": float("nan"), "latency_median": float("nan"),
                "latency_p90": float("nan")}
    times = [row[0] for row in rows]
    counts = [row[2] for row in rows]
    cumulative = list(itertools.accumulate(counts))
    weighted = total = 0.0
    for j, reached in enumerate(cumulative):
        if reached <= limit:
            continue
        freed_by = bisect.bisect_left(cumulative, reached - limit)
        weighted += (times[j] - times[freed_by]) * counts[j]
        total += counts[j]
    latencies = sorted(answered - admitted for admitted, answered, _ in rows)
    # The same fixed windows as the emulator's (aligned to the epoch), seen from the clients.
    per_window: dict[int, int] = {}
    for admitted, _, events in rows:
        index = int(admitted // window)
        per_window[index] = per_window.get(index, 0) + events
    return {
        "client_windows": [per_window.get(index, 0)
                           for index in range(min(per_window), max(per_window) + 1)],
        "cycle_seconds": weighted / total if total else float("nan"),
        "budget_share": window / (weighted / total) if total else float("nan"),
        "latency_median": statistics.median(latencies),
        "latency_p90": latencies[int(0.9 * (len(latencies) - 1))],
    }


def probe_capacity(parts: list[Path], *, limit: int, concurrency: int = 4) -> dict[str, Any]:
    """Events a second the emulator absorbs from 4 workers when no budget binds.

    Both the emulator and the workers' budget run at a time scale so high (a minute's budget
    every 0.06 s) that only the emulator's own speed limits the push.
    """
    return run_emulated(parts, time_scale=1_000.0, limit=limit, concurrency=concurrency)


def run_emulated(
    parts: list[Path], *, time_scale: float, limit: int, concurrency: int
) -> dict[str, Any]:
    """Push ``parts`` (one per process, ``concurrency`` requests in flight each) to a fresh
    emulator server; return the totals."""
    from moengage_pipelines.emulator import Emulator, EmulatorSettings, serve

    settings = EmulatorSettings(time_scale=time_scale)
    with (
        Emulator(settings) as emulator,
        serve(emulator) as url,
        tempfile.TemporaryDirectory(prefix="bench-budget-") as scratch,
    ):
        budget = str(Path(scratch) / "budget.sqlite")
        workers = _start_workers(parts, url, budget, time_scale, limit, concurrency)
        results = _run_together(workers)
        summary = emulator.inspect.summary()
        counters = emulator.inspect.counters()
        refused = counters.get("transition", {}).get("429", 0)
        figures = _window_figures(emulator.inspect.rate_usage(), settings.workspace_id)
    # From the common start signal to the last worker's last answer.
    elapsed = max(r["ended_at"] for r in results) - min(r["started_at"] for r in results)
    sent = sum(result["rows_sent"] for result in results)
    return {
        "rows": sum(result["rows"] for result in results),
        "rows_sent": sent,
        "received": summary["events"],
        "dropped": summary["dropped"],
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
        "budget_rate": TRANSITION_EVENTS_PER_MINUTE * time_scale / 60,
        "window_seconds": 60 / time_scale,
        **figures,
        **_pacing([row for r in results for row in r["admissions"]],
                  TRANSITION_EVENTS_PER_MINUTE, 60 / time_scale),
    }
