"""(f) Diff sync: 1M users re-synced unchanged, then with 1% changed, next to a full re-push.

The users are pushed once to an emulator on loopback (the seed), with the delivery state in a
DuckDB file. Then, each in its own process (its peak RSS is its own) and in this order:

* full re-push: the same users with ``full=True``, every row sent again (the baseline);
* unchanged re-sync: the same users, diffed against the state: nothing to send;
* 1% changed: the users with one row in a hundred changed: exactly those are sent.

The clock covers opening the source, validation, serialization, hashing, the diff against the
state, packing and sending. The client's rate budget is off (the emulator's too), so what is
measured is the engine and the emulator; the time the documented budget (60,000 users a
minute) would add is shown next to each, from the plan's arithmetic.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from bench.measure import peak_rss_mb

MAPPING = {"entity": "users", "customer_id": "uid", "first_name": "first",
           "attributes": {"plan": "plan", "score": "score"}}
CHANGED_EVERY = 100  # 1% of the rows
TARGET_SECONDS = 3.0
TARGET_PEAK_RSS_MB = 400
CHUNK = 250_000


def users_file(rows: int, directory: Path, *, changed: bool) -> Path:
    """``rows`` users (``changed``: every 100th with another plan), written once."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"users-{rows}{'-changed' if changed else ''}.parquet"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    writer = None
    for start in range(0, rows, CHUNK):
        ids = range(start, min(rows, start + CHUNK))
        plans = [("gold" if changed and i % CHANGED_EVERY == 7 else "free") for i in ids]
        table = pa.table({
            "uid": [f"customer-{i:09d}" for i in ids],
            "first": [f"First{i % 9973}" for i in ids],
            "plan": plans,
            "score": pa.array([i % 1000 for i in ids], pa.int64()),
        })
        writer = writer or pq.ParquetWriter(partial, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    partial.rename(path)
    return path


def _step(kind: str, path: Path, url: str, state: str, limit: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.diffsync", kind, str(path), url, state, str(limit)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"diff-sync step {kind} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_diffsync(rows: int, data_dir: Path, *, limit: int) -> dict[str, Any]:
    """Seed, then measure the full re-push, the unchanged re-sync and the 1% changed one."""
    from moengage_pipelines.emulator import Emulator, EmulatorSettings, serve

    same = users_file(rows, data_dir, changed=False)
    changed = users_file(rows, data_dir, changed=True)
    results: dict[str, Any] = {"rows": rows}
    with (
        Emulator(EmulatorSettings(time_scale=100_000.0)) as emulator,
        serve(emulator) as url,
        tempfile.TemporaryDirectory(prefix="bench-diff-") as scratch,
    ):
        state = f"duckdb:///{Path(scratch) / 'state.duckdb'}"

        def measured(kind: str, path: Path) -> dict[str, Any]:
            before = emulator.inspect.counters().get("transition", {}).get("requests", 0)
            result = _step(kind, path, url, state, limit)
            after = emulator.inspect.counters().get("transition", {}).get("requests", 0)
            result["requests"] = after - before
            return result

        results["seed"] = measured("sync", same)
        results["full"] = measured("full", same)
        results["unchanged"] = measured("sync", same)
        results["changed"] = measured("sync", changed)
        # Every 100th changed user is looked up in the emulator: it must hold the new plan.
        changed_ids = range(7, rows, CHANGED_EVERY)
        sample = [f"customer-{i:09d}" for i in changed_ids[:: max(1, rows // 10_000)]]
        results["changed_stored"] = sum(
            1 for cid in sample
            if ((emulator.inspect.user(cid) or {}).get("attributes") or {}).get("plan") == "gold"
        )
        results["changed_sample"] = len(sample)
        results["stored_users"] = emulator.inspect.summary()["users"]
    return results


def _budget_minutes(users: int) -> float:
    from moengage_pipelines.push.plan import plan_counts

    return plan_counts("users", rows=users, bodies=0).eta_seconds / 60


def diffsync_lines(result: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The table rows, notes and verdicts of (e)."""
    rows = result["rows"]
    expected_changed = len(range(7, rows, CHANGED_EVERY))
    lines = [
        f"(f) diff sync of {rows:,} users through the emulator (state: DuckDB file; no rate "
        "budget, so the engine and the emulator are measured; 'at budget' adds what 60,000 "
        "users a minute would take):",
        f"    {'measurement':<22} {'seconds':>8} {'peak RSS MB':>12} {'requests':>9} "
        f"{'users sent':>11} {'unchanged':>10} {'at budget':>10}",
    ]
    for name, key in (("seed (first push)", "seed"), ("full re-push", "full"),
                      ("unchanged re-sync", "unchanged"), ("1% changed", "changed")):
        step = result[key]
        lines.append(
            f"    {name:<22} {step['seconds']:>8.2f} {step['peak_rss_mb']:>12,.0f} "
            f"{step['requests']:>9,} {step['users_sent']:>11,} {step['rows_unchanged']:>10,} "
            f"{_budget_minutes(step['users_sent']):>8.1f} m"
        )
    unchanged, changed, full = result["unchanged"], result["changed"], result["full"]
    lines.append(
        f"    changed users checked in the emulator: {result['changed_stored']:,} of a sample of "
        f"{result['changed_sample']:,} hold the new value; users stored: "
        f"{result['stored_users']:,}; the unchanged re-sync took "
        f"{unchanged['seconds'] / full['seconds'] * 100:.1f}% of the full re-push's time."
    )
    ok_unchanged = (
        unchanged["requests"] == 0 and unchanged["users_sent"] == 0
        and unchanged["seconds"] <= TARGET_SECONDS
        and unchanged["peak_rss_mb"] <= TARGET_PEAK_RSS_MB
    )
    ok_changed = (
        changed["users_sent"] == expected_changed and changed["rows_new"] == 0
        and changed["rows_changed"] == expected_changed
        and result["changed_stored"] == result["changed_sample"]
    )
    verdicts = [
        f"unchanged {rows:,}-user re-sync: {unchanged['requests']} requests, "
        f"{unchanged['seconds']:.2f} s (<= {TARGET_SECONDS:g}), peak RSS "
        f"{unchanged['peak_rss_mb']:,.0f} MB (<= {TARGET_PEAK_RSS_MB}) -> "
        f"{'met' if ok_unchanged else 'NOT met'}",
        f"{rows:,} users, 1% changed: {changed['users_sent']:,} sent of {expected_changed:,} "
        f"changed, in {changed['requests']:,} requests -> {'met' if ok_changed else 'NOT met'}",
    ]
    return lines, verdicts


def _run_step(kind: str, path: Path, url: str, state_url: str, limit: int) -> dict[str, Any]:
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.api.ratebudget import RateBudget
    from moengage_pipelines.config import MoEngageSettings
    from moengage_pipelines.push.ledger import PushLedger
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.sources import ParquetSource
    from moengage_pipelines.warehouse import Warehouse

    settings = MoEngageSettings(
        workspace_id="TEST_WORKSPACE", data_api_key="test-data-key",
        campaign_api_key="test-campaign-key", base_url=url,
    )
    started = time.perf_counter()
    with (
        MoEngageClient(settings, budget=RateBudget.unlimited()) as client,
        Warehouse.open(state_url) as state,
    ):
        report = run_push(
            ParquetSource(path), MAPPING, client, sync_name="bench-users",
            options=PushOptions(max_body_bytes=limit, concurrency=4, full=kind == "full"),
            ledger=PushLedger(state), dead_letters=None,
        )
    seconds = time.perf_counter() - started
    if not report.ok:
        raise SystemExit(f"the {kind} push did not deliver everything: {report.summary()}")
    return {
        "seconds": seconds, "users_sent": report.users_sent, "bodies": report.bodies,
        "rows_unchanged": report.rows_unchanged, "rows_changed": report.rows_changed,
        "rows_new": report.rows_new, "rows_read": report.rows_read,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str]) -> None:
    """One step in its own process: ``python -m bench.diffsync sync|full PATH URL STATE LIMIT``."""
    kind, path, url, state, limit = argv
    import pandas  # noqa: F401  (pyarrow's lazy import is not part of what is measured)

    print(json.dumps(_run_step(kind, Path(path), url, state, int(limit))))


if __name__ == "__main__":
    main(sys.argv[1:])
