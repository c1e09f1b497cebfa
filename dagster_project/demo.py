"""``make demo``: one nightly sync for a sample day, through Dagster, against the emulator.

Builds the sample DuckDB warehouse, starts the MoEngage emulator on a loopback port, launches
the ``nightly_moengage_sync`` job for one day with ``dg launch`` (the same run the schedule
makes, recorded in ``.dagster_home`` so ``make dev`` shows it), prints what Dagster reported
next to what the emulator received, stops the emulator, and exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

from dagster_project.local_instance import (
    DEMO_CREDENTIALS,
    REPO,
    dagster_home,
    demo_environment,
    running_emulator,
)

SAMPLE_DAY = "2025-03-05"
PUSHED_ASSETS = ("moengage/users", "moengage/events")


def _materializations(home: Path) -> dict[str, dict[str, object]]:
    """Latest materialization metadata of the demo's assets, read from the instance."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home)
    found: dict[str, dict[str, object]] = {}
    with dg.DagsterInstance.get() as instance:
        for key in (*PUSHED_ASSETS, "moengage_reports/campaign_stats"):
            event = instance.get_latest_materialization_event(dg.AssetKey.from_user_string(key))
            if event is None or event.asset_materialization is None:
                continue
            found[key] = {
                name: getattr(value, "value", value)
                for name, value in event.asset_materialization.metadata.items()
            }
    return found


def _received(emulator_url: str) -> dict[str, int]:
    """What the emulator says it accepted and dropped."""
    response = httpx.get(f"{emulator_url}/_emulator/summary", timeout=10)
    response.raise_for_status()
    return response.json()


def main(argv: list[str] | None = None) -> int:
    """Run the demo; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", default=SAMPLE_DAY, help="Partition to sync (YYYY-MM-DD).")
    args = parser.parse_args(argv)

    for name, value in DEMO_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    home = dagster_home()
    work = home / "demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    from sample_data.build import build

    warehouse = build(work / "warehouse.duckdb")
    results = work / "results.duckdb"
    started = time.monotonic()
    with running_emulator(database=work / "emulator.sqlite3") as url:
        print(f"emulator      {url}  (workspace {os.environ['MOENGAGE_WORKSPACE_ID']})")
        print(f"warehouse     {warehouse}")
        print(f"dagster home  {home}")
        env = demo_environment(warehouse, results, url)
        command = [
            str(Path(sys.executable).with_name("dg")),
            "launch",
            "--job",
            "nightly_moengage_sync",
            "--partition",
            args.day,
        ]
        print(f"running       {' '.join(command[1:])}")
        run = subprocess.run(command, cwd=REPO, env=env, check=False)
        received = _received(url)
    elapsed = time.monotonic() - started

    reported = _materializations(home)
    print()
    print(f"nightly sync of {args.day}: {'succeeded' if run.returncode == 0 else 'FAILED'}"
          f" in {elapsed:.1f} s")
    for key in PUSHED_ASSETS:
        metadata = reported.get(key, {})
        print(
            f"  {key:<16} rows read {metadata.get('rows_read', '-')!s:>6}  "
            f"sent {metadata.get('rows_valid', '-')!s:>6}  "
            f"rejected {metadata.get('rows_rejected', '-')!s:>4}  "
            f"bodies {metadata.get('bodies', '-')!s:>3}  bytes {metadata.get('bytes_sent', '-')}"
        )
    stats = reported.get("moengage_reports/campaign_stats", {})
    print(f"  campaign stats   rows {stats.get('dagster/row_count', '-')}")
    print(
        f"  emulator received {received.get('users', 0)} users, {received.get('events', 0)} "
        f"events ({received.get('dropped', 0)} dropped)"
    )
    print("  open the run in the UI: make dev")
    ok = run.returncode == 0 and all(key in reported for key in PUSHED_ASSETS)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
