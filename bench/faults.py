"""(d) Delivery under faults: 1M events, 10% 5xx, 5% answers lost, one ``kill -9``, a re-run.

A push process sends the events (each with its row id) to an emulator on loopback that answers
10% of bulk-import requests with a 503 (nothing applied) and loses the answer of 5% after
applying them. Once a share of the events has arrived, the process is killed with SIGKILL; the
same push is then run again with the same delivery state until it ends. The emulator's store is
then counted row id by row id:

* lost: valid rows of the clean run that never arrived (must be 0);
* duplicates: arrivals beyond the first, which at least once allows only for bodies whose
  answer was lost (the emulator lists those requests) or that were in flight at the kill (the
  delivery state lists them: recorded going out, never answered).

The same push without faults, kill or re-run is measured first: its arrivals are the expected
set, its time the clean time.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

FAULTS = "transition:error:rate=0.1,status=503;transition:reset:rate=0.05"
FAULT_SEED = 20_261_206
KILL_AT_SHARE = 0.4


def with_row_ids(path: Path) -> Path:
    """The events file with a ``row_id`` column (written once, batch by batch)."""
    target = path.with_name(f"{path.stem}-ids.parquet")
    if target.exists():
        return target
    partial = target.with_suffix(".partial")
    source = pq.ParquetFile(path)
    schema = source.schema_arrow.append(pa.field("row_id", pa.int64()))
    offset = 0
    with pq.ParquetWriter(partial, schema) as writer:
        for batch in source.iter_batches(batch_size=100_000):
            ids = pa.array(range(offset, offset + batch.num_rows), pa.int64())
            writer.write_batch(pa.RecordBatch.from_arrays([*batch.columns, ids], schema=schema))
            offset += batch.num_rows
    partial.rename(target)
    return target


def _push(path: Path, url: str, state: str, limit: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "bench.measure", "fault-push", str(path), url, state,
               str(limit)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    output, error = process.communicate()
    if process.returncode not in (0, 1):
        raise RuntimeError(f"fault push failed ({process.returncode}):\n{error[-3000:]}")
    return json.loads(output.strip().splitlines()[-1])


def _arrivals(database: Path) -> dict[int, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute(
            "SELECT CAST(json_extract(document, '$.attributes.row_id') AS INTEGER), count(*) "
            "FROM events GROUP BY 1"
        ).fetchall()
    return dict(rows)


def _events_of_requests(database: Path, requests: list[str]) -> int:
    if not requests:
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        marks = ", ".join("?" for _ in requests)
        [(count,)] = connection.execute(
            f"SELECT count(*) FROM events WHERE request_id IN ({marks})", requests
        ).fetchall()
    return int(count)


def _in_flight_at_kill(state: str) -> tuple[int, int]:
    """Bodies (and their rows) recorded going out by the killed push, never answered."""
    from moengage_pipelines.push.ledger import PushLedger
    from moengage_pipelines.warehouse import Warehouse

    with Warehouse.open(state) as warehouse:
        rows = PushLedger(warehouse).read().to_pylist()
    answered = {(r["push_id"], r["body_seq"], r["piece"]) for r in rows if r["status"] != "sending"}
    flying = [r for r in rows if r["status"] == "sending"
              and (r["push_id"], r["body_seq"], r["piece"]) not in answered]
    return len(flying), sum(r["rows"] for r in flying)


def _run(path: Path, limit: int, scratch: Path, *, faults: bool) -> dict[str, Any]:
    from moengage_pipelines.emulator import Emulator, EmulatorSettings, parse_faults, serve

    name = "faults" if faults else "clean"
    database = scratch / f"emulator-{name}.sqlite"
    state = f"duckdb:///{scratch / f'state-{name}.duckdb'}"
    settings = EmulatorSettings(
        time_scale=1_000.0, database=str(database),
        faults=tuple(parse_faults(FAULTS)) if faults else (), fault_seed=FAULT_SEED,
    )
    killed_at = 0
    with Emulator(settings) as emulator, serve(emulator) as url:
        total = pq.ParquetFile(path).metadata.num_rows
        started = time.perf_counter()
        first = _push(path, url, state, limit)
        if faults:
            while emulator.inspect.summary()["events"] < KILL_AT_SHARE * total:
                if first.poll() is not None:
                    raise RuntimeError(f"the push ended before the kill:\n{_finish(first)}")
                time.sleep(0.05)
            os.kill(first.pid, signal.SIGKILL)
            first.communicate()
            killed_at = emulator.inspect.summary()["events"]
            report = _finish(_push(path, url, state, limit))
        else:
            report = _finish(first)
        seconds = time.perf_counter() - started
        lost_answers = emulator.inspect.lost_answers()
        counters = emulator.inspect.counters().get("transition", {})
    flying_bodies, flying_rows = _in_flight_at_kill(state) if faults else (0, 0)
    return {
        "seconds": seconds, "report": report, "arrivals": _arrivals(database),
        "lost_answer_requests": len(lost_answers),
        "lost_answer_events": _events_of_requests(database, lost_answers),
        "in_flight_bodies": flying_bodies, "in_flight_rows": flying_rows,
        "killed_at": killed_at, "http_5xx": counters.get("5xx", 0),
        "requests": counters.get("requests", 0),
    }


def run_faults(path: Path, *, limit: int) -> dict[str, Any]:
    """The clean run and the faulty run of ``path``; counts for the bench's table."""
    ided = with_row_ids(path)
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as scratch:
        clean = _run(ided, limit, Path(scratch), faults=False)
        faulty = _run(ided, limit, Path(scratch), faults=True)
    expected = set(clean["arrivals"])
    arrived = faulty["arrivals"]
    lost = len(expected - set(arrived))
    duplicates = sum(count - 1 for count in arrived.values())
    bound = faulty["lost_answer_events"] + faulty["in_flight_rows"]
    return {
        "rows": pq.ParquetFile(ided).metadata.num_rows,
        "valid": len(expected),
        "clean_seconds": clean["seconds"],
        "clean_duplicates": sum(count - 1 for count in clean["arrivals"].values()),
        "fault_seconds": faulty["seconds"],
        "lost": lost,
        "unexpected": len(set(arrived) - expected),
        "duplicates": duplicates,
        "bound": bound,
        **{key: faulty[key] for key in (
            "lost_answer_requests", "lost_answer_events", "in_flight_bodies", "in_flight_rows",
            "killed_at", "http_5xx", "requests",
        )},
        "rerun_exit_ok": faulty["report"]["ok"],
        "rerun_skipped": faulty["report"]["rows_skipped"],
        "rerun_retries": faulty["report"]["retries"],
    }


def fault_lines(result: dict[str, Any]) -> tuple[list[str], str]:
    """Notes under the table, and the verdict line."""
    lines = [
        f"(d) {result['rows']:,} events ({result['valid']:,} valid), faults {FAULTS!r} (seed "
        f"{FAULT_SEED}): clean run {result['clean_seconds']:.1f} s, {result['clean_duplicates']} "
        f"duplicates; faulty run {result['fault_seconds']:.1f} s including a SIGKILL once "
        f"{result['killed_at']:,} events had arrived and a re-run with the same state "
        f"({result['rerun_skipped']:,} rows skipped as delivered, {result['rerun_retries']:,} "
        f"retries, exit {'0' if result['rerun_exit_ok'] else '1'}).",
        f"    Emulator: {result['requests']:,} bulk-import requests, {result['http_5xx']:,} "
        f"answered 503, {result['lost_answer_requests']:,} answers lost after applying "
        f"({result['lost_answer_events']:,} events); in flight at the kill: "
        f"{result['in_flight_bodies']} bodies ({result['in_flight_rows']:,} events).",
        f"    lost {result['lost']:,}; duplicates {result['duplicates']:,} <= lost-answer + "
        f"in-flight events {result['bound']:,}; arrivals outside the clean set: "
        f"{result['unexpected']:,}.",
    ]
    ok = (result["lost"] == 0 and result["unexpected"] == 0
          and result["duplicates"] <= result["bound"] and result["clean_duplicates"] == 0
          and result["rerun_exit_ok"])
    verdict = (
        f"under faults and a kill -9: lost 0 ({result['lost']}), duplicates <= lost-answer "
        f"events ({result['duplicates']:,} <= {result['bound']:,}) -> "
        f"{'met' if ok else 'NOT met'}"
    )
    return lines, verdict
