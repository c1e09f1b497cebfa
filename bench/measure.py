"""One measurement, run in its own process so that its peak RSS is its own.

``python -m bench.measure naive|engine PATH LIMIT`` prints one JSON line of results.
``python -m bench.measure fault-push PATH URL STATE LIMIT`` pushes through faults
(``bench.faults``).
``python -m bench.measure worker PART URL BUDGET TIME_SCALE LIMIT CONCURRENCY`` pushes one part
to the emulator (used by ``bench.emulated``): it loads everything, prints ``ready``, waits for
a line on stdin, then pushes, so that several workers can start together.

The clock of a measurement starts before the source is opened and stops once the last body's
bytes exist (or, for a worker, once MoEngage's emulator answered the last one): reading the
Parquet file, validation, serialization and packing are all inside it.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """This process's own peak resident memory, in MB.

    ``ru_maxrss`` survives ``execve`` on Linux: a process started by a parent holding 800 MB
    reports at least 800 MB. ``VmHWM`` belongs to the process's own address space, which
    ``execve`` replaces, so it is read first.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    # Not Linux: ru_maxrss (kilobytes on Linux, bytes on macOS; only Linux is benchmarked).
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _engine(path: Path, limit: int) -> Callable[[], dict[str, Any]]:
    from bench.data import MAPPING
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.sources import ParquetSource

    def run() -> dict[str, Any]:
        # The pack path alone: no delivery state to consult.
        report = run_push(
            ParquetSource(path), MAPPING, None, sync_name="bench",
            options=PushOptions(dry_run=True, max_body_bytes=limit),
            ledger=None, dead_letters=None,
        )
        return {"rows": report.rows_read, "rows_sent": report.events_sent,
                "bodies": report.bodies, "bytes": report.bytes_sent,
                "largest_body": report.largest_body_bytes, "rejected": report.rows_rejected}

    return run


def _naive(path: Path, limit: int) -> Callable[[], dict[str, Any]]:
    from bench.naive import naive_pack

    return lambda: naive_pack(path, limit)


def _recording_budget() -> type:
    """A ``RateBudget`` that also notes when each request was admitted and answered.

    Observation only: the budget decides exactly as the library's does.
    """
    from moengage_pipelines.api.ratebudget import TRANSITION_EVENTS, RateBudget

    class RecordingBudget(RateBudget):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.admissions: list[tuple[float, float, int]] = []

        @contextmanager
        def hold(
            self, cost: Mapping[str, int], *, max_wait: float | None = None
        ) -> Iterator[float]:
            with super().hold(cost, max_wait=max_wait) as waited:
                admitted = time.time()
                try:
                    yield waited
                finally:
                    answered = time.time()
            # list.append is atomic: the delivery threads may record concurrently.
            self.admissions.append((admitted, answered, int(cost.get(TRANSITION_EVENTS, 0))))

    return RecordingBudget


def _worker(
    part: Path, url: str, budget_path: str, time_scale: float, limit: int, concurrency: int
) -> Callable[[], dict[str, Any]]:
    from bench.data import MAPPING
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.api.ratebudget import SQLiteBudgetStore
    from moengage_pipelines.config import MoEngageSettings
    from moengage_pipelines.push.dead_letters import DeadLetterWriter
    from moengage_pipelines.push.ledger import PushLedger
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.sources import ParquetSource
    from moengage_pipelines.warehouse import Warehouse

    settings = MoEngageSettings(
        workspace_id="TEST_WORKSPACE", data_api_key="test-data-key",
        campaign_api_key="test-campaign-key", base_url=url,
    )
    budget_type = _recording_budget()
    # Each process keeps its delivery state, as a push does by default, in a file of its own.
    state_url = f"duckdb:///{Path(budget_path).with_name(f'state-{part.stem}.duckdb')}"

    def run() -> dict[str, Any]:
        budget = budget_type(
            SQLiteBudgetStore(budget_path), namespace="bench-workspace", time_scale=time_scale
        )
        with MoEngageClient(settings, budget=budget) as client, Warehouse.open(state_url) as state:
            report = run_push(
                ParquetSource(part), MAPPING, client, sync_name="bench",
                options=PushOptions(max_body_bytes=limit, concurrency=concurrency),
                ledger=PushLedger(state), dead_letters=DeadLetterWriter(state),
            )
        budget.close()
        return {"rows": report.rows_read, "rows_sent": report.events_sent,
                "bodies": report.bodies, "bytes": report.bytes_sent,
                "largest_body": report.largest_body_bytes, "rejected": report.rows_rejected,
                "http_429": report.http_429, "retries": report.retries,
                "failed_bodies": report.failed_bodies, "admissions": budget.admissions}

    return run


def _fault_push(path: Path, url: str, state_url: str, limit: int) -> Callable[[], dict[str, Any]]:
    """(d): one push of the events with row ids, through faults, with a delivery state."""
    from bench.data import MAPPING
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.api.ratebudget import RateBudget
    from moengage_pipelines.api.retries import RetryConfig
    from moengage_pipelines.config import MoEngageSettings
    from moengage_pipelines.push.dead_letters import DeadLetterWriter
    from moengage_pipelines.push.ledger import PushLedger
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.sources import ParquetSource
    from moengage_pipelines.warehouse import Warehouse

    settings = MoEngageSettings(
        workspace_id="TEST_WORKSPACE", data_api_key="test-data-key",
        campaign_api_key="test-campaign-key", base_url=url,
    )
    mapping = {**MAPPING, "attributes": [*MAPPING["attributes"], "row_id"]}
    # Quick retries: the emulator's faults are not a workspace to be gentle with.
    retry = RetryConfig(backoff_initial=0.02, backoff_max=0.5, max_attempts=10)

    def run() -> dict[str, Any]:
        with (
            MoEngageClient(settings, budget=RateBudget.unlimited(), retry=retry) as client,
            Warehouse.open(state_url) as state,
        ):
            report = run_push(
                ParquetSource(path), mapping, client, sync_name="bench-faults",
                options=PushOptions(max_body_bytes=limit, concurrency=4),
                ledger=PushLedger(state), dead_letters=DeadLetterWriter(state),
            )
        return {"rows": report.rows_read, "rows_sent": report.events_sent,
                "rows_skipped": report.rows_skipped, "failed_rows": report.failed_rows,
                "retries": report.retries, "ok": report.ok, "bodies": report.bodies,
                "bytes": report.bytes_sent}

    return run


def _warm_up() -> None:
    # Imports are not part of what is measured. pyarrow imports pandas lazily the first time
    # a column is turned into Python objects (and pyarrow.dataset imports it); that one-time
    # cost is paid here too.
    import pandas  # noqa: F401

    import bench.naive  # noqa: F401


def main(argv: list[str]) -> None:
    """Run one measurement and print its results as one JSON line."""
    kind, path, *rest = argv
    _warm_up()
    if kind == "naive":
        run = _naive(Path(path), int(rest[0]))
    elif kind == "engine":
        run = _engine(Path(path), int(rest[0]))
    elif kind == "fault-push":
        url, state, limit = rest
        run = _fault_push(Path(path), url, state, int(limit))
    elif kind == "worker":
        url, budget, time_scale, limit, concurrency = rest
        run = _worker(Path(path), url, budget, float(time_scale), int(limit), int(concurrency))
        print("ready", flush=True)
        sys.stdin.readline()
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    started = time.perf_counter()
    wall_start = time.time()
    cpu = time.process_time()
    result = run()
    result["seconds"] = time.perf_counter() - started
    result["started_at"] = wall_start
    result["ended_at"] = time.time()
    result["cpu_seconds"] = time.process_time() - cpu
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
