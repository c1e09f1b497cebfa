"""``make demo``: one nightly sync for a sample day, through Dagster, against the emulator.

Builds the sample DuckDB warehouse, starts the MoEngage emulator on a loopback port, launches
the ``nightly_moengage_sync`` job for one day with ``dg launch`` (the same job the schedule
runs, recorded in ``.dagster_home`` so ``make dev`` shows it), prints what Dagster reported next
to what the emulator received, stops the emulator, and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx

from dagster_project.local_instance import (
    DEMO_CREDENTIALS,
    REPO,
    dagster_home,
    demo_environment,
    demo_reports,
    running_emulator,
)
from sample_data.build import build
from sample_data.generate import DEMO_DAY, FIRST_DAY

PUSHED_ASSETS = ("moengage/users", "moengage/events", "moengage/catalog_items")
STATS_ASSET = "moengage_reports/campaign_stats"
REPORT_ASSET = "moengage_reports/campaign_report_files"
# The demo's steps are small: one process spares Dagster's per-step process start-up, which
# would dominate the run time. Production runs keep the default multiprocess executor.
IN_PROCESS = json.dumps({"execution": {"config": {"in_process": {}}}})


def _latest_run(home: Path, since: float) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Materialization metadata and check results of the demo's run, from the instance."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home)
    metadata: dict[str, dict[str, Any]] = {}
    checks: list[str] = []
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(limit=1)
        if not runs or runs[0].job_name != "nightly_moengage_sync":
            return metadata, checks
        for entry in instance.all_logs(runs[0].run_id):
            event = entry.dagster_event
            if event is None or entry.timestamp < since:
                continue
            if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
                materialization = event.step_materialization_data.materialization
                metadata[materialization.asset_key.to_user_string()] = {
                    name: getattr(value, "value", value)
                    for name, value in materialization.metadata.items()
                }
            elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                evaluation = event.event_specific_data
                verdict = "passed" if evaluation.passed else evaluation.severity.value.lower()
                checks.append(
                    f"{verdict:<7} {evaluation.asset_key.to_user_string()}: "
                    f"{evaluation.check_name}"
                    + (f" ({evaluation.description})" if evaluation.description else "")
                )
    return metadata, sorted(checks)


def _emulator_summary(emulator_url: str) -> dict[str, int]:
    response = httpx.get(f"{emulator_url}/_emulator/summary", timeout=10)
    response.raise_for_status()
    return response.json()


def _dead_letters(results: Path, day: str) -> list[tuple[str, str, int]]:
    if not results.exists():
        return []
    with duckdb.connect(str(results), read_only=True) as connection:
        return connection.execute(
            'SELECT sync_name, rule, count(*) FROM moengage_dead_letters WHERE "partition" = ? '
            "GROUP BY ALL ORDER BY ALL",
            [day],
        ).fetchall()


def _print_summary(
    day: str,
    ok: bool,
    elapsed: float,
    log: Path,
    reported: dict,
    checks: list[str],
    received: dict,
    letters: list,
) -> None:
    print(f"\nnightly sync of {day}: {'succeeded' if ok else 'FAILED'} in {elapsed:.1f} s")
    print(f"  {'asset':<23}{'read':>6}{'sent':>7}{'rejected':>10}{'bodies':>8}{'bytes':>9}")
    for key in PUSHED_ASSETS:
        m = reported.get(key, {})
        print(
            f"  {key:<23}{m.get('rows_read', '-')!s:>6}{m.get('rows_valid', '-')!s:>7}"
            f"{m.get('rows_rejected', '-')!s:>10}{m.get('bodies', '-')!s:>8}"
            f"{m.get('bytes_sent', '-')!s:>9}"
        )
    for sync_name, rule, count in letters:
        print(f"  dead letter            {sync_name}: {count} × {rule}")
    for check in checks:
        print(f"  check                  {check}")
    stats = reported.get(STATS_ASSET, {})
    print(f"  campaign stats         {stats.get('dagster/row_count', '-')} rows pulled back")
    report = reported.get(REPORT_ASSET, {})
    for filename, outcome in (report.get("files") or {}).items():
        print(f"  report file            {filename}: {outcome}, {report.get('rows_loaded')} rows")
    print(
        f"  emulator               accepted {received.get('events', 0)} events and "
        f"{received.get('users', 0)} user profiles; dropped silently: {received.get('dropped', 0)}"
    )
    print(f"  run log                {log}")
    print("  browse the run:        make dev")


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", default=DEMO_DAY.isoformat(), help="Partition (YYYY-MM-DD).")
    args = parser.parse_args(argv)

    for name, value in DEMO_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    home = dagster_home()
    work = home / "demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warehouse = build(work / "warehouse.duckdb")
    results = work / "results.duckdb"
    log = work / "run.log"

    started = time.time()
    with running_emulator(work / "emulator.sqlite3", demo_reports(FIRST_DAY)) as url:
        print(f"emulator      {url}  (workspace {os.environ['MOENGAGE_WORKSPACE_ID']})")
        print(f"warehouse     {warehouse}")
        command = [str(Path(sys.executable).with_name("dg")), "launch", "--job"]
        command += ["nightly_moengage_sync", "--partition", args.day, "--config-json", IN_PROCESS]
        print(f"dagster       dg launch --job nightly_moengage_sync --partition {args.day}")
        env = demo_environment(warehouse, results, url)
        with log.open("w") as output:
            run = subprocess.run(command, cwd=REPO, env=env, stdout=output, stderr=output)
        received = _emulator_summary(url)
    elapsed = time.time() - started

    reported, checks = _latest_run(home, since=started)
    ok = run.returncode == 0 and all(
        key in reported for key in (*PUSHED_ASSETS, STATS_ASSET, REPORT_ASSET)
    )
    if not ok:
        print(log.read_text()[-4000:], file=sys.stderr)
    letters = _dead_letters(results, args.day)
    _print_summary(args.day, ok, elapsed, log, reported, checks, received, letters)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
