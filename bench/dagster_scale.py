"""(e) Scale through Dagster: 8 daily partitions, 2 concurrent runs, one Redis rate budget.

A backfill of 8 partitions of ``moengage/events`` runs the way a deployment scales out: two
ranged runs of 4 partitions at once (the ``dagster/backfill`` run limit of ``dagster.yaml`` is
2), each with Dagster's multiprocess executor, every push step pacing itself on one rate budget
kept in Redis. The emulator runs MoEngage's bulk-import budget (60,000 events a minute) with time
compressed by ``time_scale``, and the runs' budget uses the same scale.

The figures come from the emulator's own fixed windows of that budget: no window may admit more
than the limit (and nothing may be refused with 429), and the windows strictly between the first
and the last (partial by construction) must be at least 90% full.

``python -m bench.dagster_scale run START END`` is the child command running one ranged run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from bench.emulated import _window_figures
from dagster_project.resources import MoEngageResource
from moengage_pipelines.limits import TRANSITION_EVENTS_PER_MINUTE

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 8
RUNS = 2
# 8 x 32,000 events fill a little over 4 windows of 60,000: at least 3 interior windows.
EVENTS_PER_DAY = 32_000
TARGET_WINDOW_SHARE = 0.90
EVENTS_KEY = ("moengage", "events")
_TIME_SCALE_VARIABLE = "BENCH_TIME_SCALE"
# Two pushes at once: the shared budget, not the pool, is what keeps them within the limit.
_INSTANCE = """\
concurrency:
  runs:
    max_concurrent_runs: 4
  pools:
    default_limit: 2
    granularity: op
telemetry:
  enabled: false
"""


class ScaledMoEngageResource(MoEngageResource):
    """``MoEngageResource`` whose rate budget runs ``time_scale`` times faster than real time."""

    time_scale: float = 1.0

    @contextmanager
    def get_client(self) -> Iterator[Any]:
        """Yield a client whose budget (and retry waits) match the time-scaled emulator."""
        from moengage_pipelines.api.client import MoEngageClient
        from moengage_pipelines.api.ratebudget import checked_budget

        settings = self.settings()
        budget = checked_budget(
            settings, self.rate_budget_store or "memory", time_scale=self.time_scale
        )
        try:
            with MoEngageClient(settings, budget=budget, max_connections=self.concurrency) as c:
                yield c
        finally:
            budget.close()


def scale_job() -> Any:
    """The nightly job with the time-scaled client (module level: runs rebuild it by name)."""
    import dagster as dg

    from dagster_project.definitions import defs as load_defs

    project = load_defs()
    moengage = ScaledMoEngageResource(
        workspace_id=dg.EnvVar("MOENGAGE_WORKSPACE_ID"),
        data_api_key=dg.EnvVar("MOENGAGE_DATA_API_KEY"),
        campaign_api_key=dg.EnvVar("MOENGAGE_CAMPAIGN_API_KEY"),
        rate_budget_store=dg.EnvVar("MOENGAGE_RATE_BUDGET_STORE"),
        time_scale=float(os.environ[_TIME_SCALE_VARIABLE]),
    )
    scaled = dg.Definitions(
        assets=project.assets,
        asset_checks=project.asset_checks,
        jobs=project.jobs,
        resources={**(project.resources or {}), "moengage": moengage},
    )
    return scaled.resolve_job_def("nightly_moengage_sync")


def _run_range(start: str, end: str) -> int:
    """Child process: one ranged run of the events push with the multiprocess executor."""
    import dagster as dg

    tags = {"dagster/asset_partition_range_start": start, "dagster/asset_partition_range_end": end}
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(scale_job),
            instance=instance,
            tags=tags,
            asset_selection=[dg.AssetKey(list(EVENTS_KEY))],
        )
        print(json.dumps({"run_id": result.run_id, "success": result.success}))
        return 0 if result.success else 1


def _events_table(days: list[date], per_day: int) -> pa.Table:
    """``per_day`` valid events on each day, loaded across the day (vectorized: quick to make)."""
    rng = np.random.default_rng(20250303)
    count = per_day * len(days)
    day_starts = np.repeat(
        [int(datetime.combine(d, datetime.min.time(), UTC).timestamp()) for d in days], per_day
    )
    seconds = day_starts + rng.integers(0, 86_000, count)
    event_time = pa.array(seconds * 1_000_000, pa.timestamp("us", tz="UTC"))
    loaded = pa.array((seconds + rng.integers(5, 300, count)) * 1_000_000)
    names = np.array(["App Opened", "Product Viewed", "Added To Cart", "Order Completed"])
    return pa.table(
        {
            "event_id": [f"evt-{n:08d}" for n in range(count)],
            "customer_id": [f"cust-{n:05d}" for n in rng.integers(1, 20_000, count)],
            "event_name": names[rng.integers(0, len(names), count)],
            "event_time": event_time,
            "loaded_at": loaded.cast(pa.timestamp("us", tz="UTC")),
            "platform": np.array(["ANDROID", "iOS", "web"])[rng.integers(0, 3, count)],
            "app_version": np.full(count, "5.4.0"),
            "tz_offset_seconds": np.full(count, 19_800),
            "category": np.array(["shoes", "bags", "running"])[rng.integers(0, 3, count)],
            "revenue": np.round(rng.uniform(15, 400, count), 2),
        }
    )


def _warehouse(path: Path, days: list[date], per_day: int) -> Path:
    events = _events_table(days, per_day)
    with duckdb.connect(str(path)) as connection:
        connection.register("generated", events)
        connection.execute("CREATE TABLE events AS SELECT * FROM generated")
    return path


def _create_storage(home: Path) -> None:
    """Create the instance's storage once, before two runs would race to create it."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)


def _drop_schema(postgres_url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


def _push_spans(home: Path, run_ids: list[str]) -> list[tuple[float, float]]:
    """(start, end) epoch seconds of each run's push step, from the runs' event logs."""
    import dagster as dg

    spans = []
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run_id in run_ids:
            times = {
                entry.dagster_event.event_type_value: entry.timestamp
                for entry in instance.all_logs(run_id)
                if entry.dagster_event is not None
                and entry.step_key is not None
                and entry.step_key.startswith("push_")
                and entry.dagster_event.event_type_value in ("STEP_START", "STEP_SUCCESS")
            }
            spans.append((times.get("STEP_START", 0.0), times.get("STEP_SUCCESS", 0.0)))
    return spans


def run_dagster_scale(
    *,
    events_per_day: int,
    time_scale: float,
    redis_url: str,
    postgres_url: str,
    first_day: date | None = None,
) -> dict[str, Any]:
    """Run the scale figure; return the emulator's windows and the runs' outcome."""
    from moengage_pipelines.emulator import Emulator, EmulatorSettings, serve

    first = first_day or date(2025, 6, 1)
    days = [first + timedelta(days=n) for n in range(PARTITIONS)]
    workspace = f"BENCH_{uuid.uuid4().hex[:10].upper()}"
    schema = f"bench_{workspace.lower()}"
    settings = EmulatorSettings(workspace_id=workspace, time_scale=time_scale)
    with (
        tempfile.TemporaryDirectory(prefix="bench-dagster-") as scratch,
        Emulator(settings) as emulator,
        serve(emulator) as url,
    ):
        home = Path(scratch) / "home"
        home.mkdir()
        (home / "dagster.yaml").write_text(_INSTANCE)
        _create_storage(home)
        warehouse = _warehouse(Path(scratch) / "warehouse.duckdb", days, events_per_day)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "MOENGAGE_WORKSPACE_ID": workspace,
            "MOENGAGE_DATA_API_KEY": settings.data_api_key,
            "MOENGAGE_CAMPAIGN_API_KEY": settings.campaign_api_key,
            "MOENGAGE_BASE_URL": url,
            "MOENGAGE_WAREHOUSE_URL": f"duckdb:///{warehouse}",
            # Results (the push ledger, dead letters) in PostgreSQL: a DuckDB file takes one
            # writing process at a time, which would run the two pushes one after the other.
            "MOENGAGE_RESULTS_URL": f"{postgres_url}?schema={schema}",
            "MOENGAGE_RATE_BUDGET_STORE": redis_url,
            _TIME_SCALE_VARIABLE: str(time_scale),
        }
        per_run = PARTITIONS // RUNS
        ranges = [(days[n * per_run], days[n * per_run + per_run - 1]) for n in range(RUNS)]
        started = time.monotonic()
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.dagster_scale", "run", a.isoformat(), b.isoformat()],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for a, b in ranges
        ]
        outcomes = []
        for child in children:
            output, error = child.communicate()
            lines = output.strip().splitlines()
            if child.returncode or not lines:
                raise RuntimeError(f"a bench run failed:\n{error[-3000:]}")
            outcomes.append(json.loads(lines[-1]))
        elapsed = time.monotonic() - started
        spans = _push_spans(home, [outcome["run_id"] for outcome in outcomes])
        summary = emulator.inspect.summary()
        refused = emulator.inspect.counters().get("transition", {}).get("429", 0)
        figures = _window_figures(emulator.inspect.rate_usage(), workspace)
        _drop_schema(postgres_url, schema)
    return {
        "events": events_per_day * PARTITIONS,
        "received": summary["events"],
        "dropped": summary["dropped"],
        "http_429": refused,
        "runs": len(outcomes),
        "push_spans": spans,
        "seconds": elapsed,
        "time_scale": time_scale,
        "budget_rate": TRANSITION_EVENTS_PER_MINUTE * time_scale / 60,
        **figures,
    }


def scale_lines(result: dict[str, Any]) -> tuple[list[str], str]:
    """Notes for the bench output and the target verdict line."""
    limit = result.get("limit", TRANSITION_EVENTS_PER_MINUTE)
    windows = result["windows"]
    peak = max(windows, default=0)
    first = min((a for a, _ in result["push_spans"]), default=0.0)
    share = result["window_share"]
    notes = [
        f"(e) Dagster backfill of {PARTITIONS} partitions of moengage/events: {result['runs']} "
        f"ranged runs at once (multiprocess executor), one Redis rate budget, emulator time x"
        f"{result['time_scale']:g}: {result['received']:,} of {result['events']:,} events "
        f"received in {result['seconds']:.1f} s; dropped {result['dropped']}, "
        f"HTTP 429 {result['http_429']}.",
        f"    budget windows (events admitted per {60 / result['time_scale']:g} s window, limit "
        f"{limit:,}): {', '.join(f'{n:,}' for n in windows)}; peak {peak:,}; interior windows "
        f"{share * 100:.1f}% full.",
        "    push steps (s after the first start): "
        + "; ".join(f"{a - first:.1f}-{b - first:.1f}" for a, b in result["push_spans"]),
    ]
    ok = (
        peak <= limit
        and result["http_429"] == 0
        and result["interior"] >= 1
        and share >= TARGET_WINDOW_SHARE
        and result["received"] == result["events"]
    )
    verdict = (
        f"Dagster scale: no budget window over {limit:,} and interior windows >= "
        f"{TARGET_WINDOW_SHARE:.0%} full: peak {peak:,}, {share * 100:.1f}% -> "
        f"{'met' if ok else 'NOT met'}"
    )
    return notes, verdict


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "run":
        sys.exit(_run_range(sys.argv[2], sys.argv[3]))
    outcome = run_dagster_scale(
        events_per_day=EVENTS_PER_DAY,
        time_scale=5.0,
        redis_url="redis://127.0.0.1:6379/0",
        postgres_url="postgresql://postgres@127.0.0.1:5432/test",
    )
    lines, target = scale_lines(outcome)
    print("\n".join([*lines, target]))
