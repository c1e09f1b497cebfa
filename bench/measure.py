"""One measurement, run in its own process so that its peak RSS is its own.

``python -m bench.measure naive|engine PATH LIMIT`` prints one JSON line of results.
``python -m bench.measure worker PART URL BUDGET TIME_SCALE LIMIT`` pushes one part to the
emulator (used by ``bench.emulated``).
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _engine(path: Path, limit: int) -> dict:
    from bench.data import MAPPING
    from moengage_pipelines.push.pipeline import PushOptions, run_push
    from moengage_pipelines.sources import ParquetSource

    report = run_push(
        ParquetSource(path), MAPPING, None, sync_name="bench",
        options=PushOptions(dry_run=True, max_body_bytes=limit),
    )
    return {"rows": report.rows_read, "rows_sent": report.events_sent, "bodies": report.bodies,
            "bytes": report.bytes_sent, "largest_body": report.largest_body_bytes,
            "rejected": report.rows_rejected}


def _worker(part: Path, url: str, budget_path: str, time_scale: float, limit: int) -> dict:
    from bench.data import MAPPING
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.api.ratebudget import RateBudget, SQLiteBudgetStore
    from moengage_pipelines.config import MoEngageSettings
    from moengage_pipelines.push.pipeline import PushOptions, run_push
    from moengage_pipelines.sources import ParquetSource

    settings = MoEngageSettings(
        workspace_id="TEST_WORKSPACE", data_api_key="test-data-key",
        campaign_api_key="test-campaign-key", base_url=url,
    )
    budget = RateBudget(
        SQLiteBudgetStore(budget_path), namespace="bench-workspace", time_scale=time_scale
    )
    with MoEngageClient(settings, budget=budget) as client:
        report = run_push(
            ParquetSource(part), MAPPING, client, sync_name="bench",
            options=PushOptions(max_body_bytes=limit, concurrency=4),
        )
    budget.close()
    return {"rows": report.rows_read, "rows_sent": report.events_sent, "bodies": report.bodies,
            "bytes": report.bytes_sent, "largest_body": report.largest_body_bytes,
            "rejected": report.rows_rejected, "http_429": report.http_429,
            "retries": report.retries, "failed_bodies": report.failed_bodies}


def _warm_up() -> None:
    # Imports are not part of what is measured. pyarrow imports pandas lazily the first time
    # a column is turned into Python objects; that one-time cost is paid here too.
    import pandas  # noqa: F401

    import bench.naive  # noqa: F401


def main(argv: list[str]) -> None:
    kind = argv[0]
    _warm_up()
    started = time.perf_counter()
    wall_start = time.time()
    cpu = time.process_time()
    if kind == "naive":
        from bench.naive import naive_pack

        result = naive_pack(Path(argv[1]), int(argv[2]))
    elif kind == "engine":
        result = _engine(Path(argv[1]), int(argv[2]))
    elif kind == "worker":
        result = _worker(Path(argv[1]), argv[2], argv[3], float(argv[4]), int(argv[5]))
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    result["seconds"] = time.perf_counter() - started
    result["started_at"] = wall_start
    result["ended_at"] = time.time()
    result["cpu_seconds"] = time.process_time() - cpu
    result["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
