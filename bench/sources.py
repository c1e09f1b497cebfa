"""``python -m bench.sources``: each source streaming events into the pack path.

Every source reads the same generated events (``bench.data``) and runs the dry-run pack path,
each measurement in a fresh process so that its peak RSS is its own; local Parquet is measured
in the same run as the baseline. A source's stand-in is prepared once per size by a function
of ``PREPARERS`` (one per source kind, each on its own) and handed to the measuring process as a
small JSON spec: ``{"url": ..., "table": ... | "sql": ...}``.

* ``parquet``: the local file itself (the baseline).
* ``adbc-postgresql``: the events copied into the local PostgreSQL, read through the ADBC
  PostgreSQL driver (``adbc+postgresql://``).
* ``s3-parquet``: the Parquet file in a local S3 (moto's server, its own process, checking
  signatures), read through pyarrow's S3 filesystem (``s3://...?endpoint_override=``).
* ``snowflake-fake``: the events generated inside fakesnow's server (a separate process),
  read through the real Snowflake connector. The fake answers a query with its whole result in
  one response, where Snowflake sends chunks: its memory figure shows the fake, not the
  source, and it is not run above 1M rows.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.data import events_file
from bench.measure import peak_rss_mb

ROOT = Path(__file__).resolve().parent.parent
TARGET_PEAK_RSS_MB = 400
POSTGRES_DSN = os.environ.get("MOENGAGE_BENCH_POSTGRES_DSN",
                              "postgresql://postgres@127.0.0.1:5432/test")
BENCH_SCHEMA = "moengage_bench"
SNOWFLAKE_MAX_ROWS = 1_000_000
# Printed under a source's verdict: what its stand-in's figures do and do not say.
NOTES = {
    "snowflake-fake": "the fake answers with the whole result in one response (Snowflake sends "
                      "chunks that the connector fetches a few at a time): this memory figure "
                      "grows with the result and is the fake's, not the source's",
}

Spec = dict[str, Any]


# -- stand-ins, one function per source kind -------------------------------------------------


@contextlib.contextmanager
def prepare_parquet(rows: int, data_dir: Path) -> Iterator[Spec]:
    """The local Parquet file (the baseline every other source is compared with)."""
    _in_child("parquet", rows, data_dir)
    yield {"url": f"parquet:{events_file(rows, data_dir)}"}


@contextlib.contextmanager
def prepare_adbc_postgresql(rows: int, data_dir: Path) -> Iterator[Spec]:
    """The events in table ``moengage_bench.events_<rows>`` (copied once, then reused)."""
    _in_child("adbc-postgresql", rows, data_dir)
    yield {"url": "adbc+" + POSTGRES_DSN, "table": f"{BENCH_SCHEMA}.events_{rows}"}


def _in_child(kind: str, rows: int, data_dir: Path) -> None:
    """Make a stand-in's data in a child process.

    Linux carries a process's peak RSS over into the programs it starts (``ru_maxrss``
    survives ``execve``): data generated here would inflate every measurement after it.
    """
    command = [sys.executable, "-m", "bench.sources", "--make-data", kind, "--rows", str(rows),
               "--data-dir", str(data_dir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")


def _make_data(kind: str, rows: int, data_dir: Path) -> None:
    events_file(rows, data_dir)
    if kind == "adbc-postgresql":
        _copy_to_postgres(rows, data_dir)


def _copy_to_postgres(rows: int, data_dir: Path) -> None:
    import adbc_driver_postgresql.dbapi
    import pyarrow as pa
    import pyarrow.parquet as pq

    with adbc_driver_postgresql.dbapi.connect(POSTGRES_DSN) as connection:
        cursor = connection.cursor()
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {BENCH_SCHEMA}")
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = $2",
                       (BENCH_SCHEMA, f"events_{rows}"))
        if cursor.fetchone()[0] == 0:
            events = pq.ParquetFile(events_file(rows, data_dir))
            stream = pa.RecordBatchReader.from_batches(events.schema_arrow,
                                                       events.iter_batches(100_000))
            cursor.adbc_ingest(f"events_{rows}", stream, mode="create",
                               db_schema_name=BENCH_SCHEMA)
        connection.commit()


@contextlib.contextmanager
def prepare_snowflake_fake(rows: int, data_dir: Path) -> Iterator[Spec]:
    """The events generated inside a fakesnow server running in its own process."""
    if rows > SNOWFLAKE_MAX_ROWS:
        raise _SkippedError(f"the fake holds a whole result in one response; not run above "
                    f"{SNOWFLAKE_MAX_ROWS:,} rows")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-c", "import fakesnow, time, sys\n"
         f"with fakesnow.server(port={port}):\n    print('up', flush=True); time.sleep(1e6)"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT,
    )
    try:
        server.stdout.readline()
        import snowflake.connector

        connection = snowflake.connector.connect(
            user="bench", password="bench", account="bench", host="127.0.0.1", port=port,
            protocol="http",
        )
        cursor = connection.cursor()
        cursor.execute("CREATE DATABASE bench")
        cursor.execute("CREATE SCHEMA bench.events")
        cursor.execute(_snowflake_events_sql(rows))
        connection.close()
        yield {
            "url": f"snowflake://bench:bench@bench/BENCH/EVENTS?host=127.0.0.1&port={port}"
                   "&protocol=http",
            "table": "events",
        }
    finally:
        server.terminate()
        server.wait()


def _snowflake_events_sql(rows: int) -> str:
    """Events with the columns and value mix of ``bench.data``, generated in Snowflake SQL."""
    return f"""
        CREATE TABLE bench.events.events AS SELECT
          IFF(MOD(n, 1000) = 7, 'null', 'user_' || MOD(n * 7919, 2000000)) AS "customer_id",
          DECODE(MOD(n, 5), 0, 'Purchase', 1, 'Add To Cart', 2, 'Viewed Product',
                 3, 'Signed Up', 'Café visit ☕') AS "event_name",
          DATEADD(second, MOD(n * 104729, 5184000), '2024-11-01'::TIMESTAMP_NTZ)
            AS "event_time",
          DECODE(MOD(n, 5), 0, 'ANDROID', 1, 'iOS', 2, 'web', 3, 'android', 'Web')
            AS "platform",
          MOD(n * 31, 50000) / 100.0 AS "price",
          1 + MOD(n, 9) AS "quantity",
          MOD(n, 10) = 0 AS "is_gift",
          'SKU-' || MOD(n * 13, 50000) AS "sku",
          DECODE(MOD(n, 5), 0, '', 1, 'said "hello"', 2, 'ünïcödé text', 3, 'line break',
                 'tab and \\\\ backslash') AS "note"
        FROM (SELECT SEQ8() AS n FROM TABLE(GENERATOR(ROWCOUNT => {rows})))
    """


@contextlib.contextmanager
def prepare_s3_parquet(rows: int, data_dir: Path) -> Iterator[Spec]:
    """The events file uploaded to a local S3 server (moto, in its own process)."""
    import pyarrow.fs as pafs

    from tests.sources.local_s3 import LocalS3

    server = LocalS3.start()
    try:
        store = pafs.S3FileSystem(
            access_key=server.access_key, secret_key=server.secret_key,
            endpoint_override=server.endpoint, scheme="http", region="us-east-1",
            allow_bucket_creation=True,
        )
        store.create_dir("bench")
        pafs.copy_files(str(events_file(rows, data_dir)), "bench/events.parquet",
                        destination_filesystem=store)
        # Credentials through the standard chain, as a deployment has them; the measuring
        # process inherits them. No instance-metadata lookup: nothing leaves the machine.
        credentials = {"AWS_ACCESS_KEY_ID": server.access_key,
                       "AWS_SECRET_ACCESS_KEY": server.secret_key,
                       "AWS_EC2_METADATA_DISABLED": "true"}
        saved = {name: os.environ.get(name) for name in credentials}
        os.environ.update(credentials)
        try:
            yield {"url": f"s3://bench/events.parquet?endpoint_override={server.endpoint}"
                          "&scheme=http&region=us-east-1"}
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    finally:
        server.stop()


class _SkippedError(Exception):
    """A source that is not measured at this size (the reason is printed)."""


PREPARERS: dict[str, Callable[[int, Path], contextlib.AbstractContextManager[Spec]]] = {
    "parquet": prepare_parquet,
    "adbc-postgresql": prepare_adbc_postgresql,
    "snowflake-fake": prepare_snowflake_fake,
    "s3-parquet": prepare_s3_parquet,
}


# -- one measurement, in its own process -------------------------------------------------------


def measure(spec: Spec, limit: int) -> dict[str, Any]:
    """Push the source's rows through the dry-run pack path; the figures of ``bench.measure``."""

    import pandas  # noqa: F401  (imported lazily by pyarrow; not part of the clock)

    from bench.data import MAPPING
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.sources import open_source

    started, cpu = time.perf_counter(), time.process_time()
    source = open_source(spec["url"], table=spec.get("table"), sql=spec.get("sql"))
    report = run_push(source, MAPPING, None, sync_name="bench-sources",
                      options=PushOptions(dry_run=True, max_body_bytes=limit),
                      ledger=None, dead_letters=None)
    return {
        "rows": report.rows_read, "bodies": report.bodies, "bytes": report.bytes_sent,
        "seconds": time.perf_counter() - started, "cpu_seconds": time.process_time() - cpu,
        "peak_rss_mb": peak_rss_mb(),
    }


def _measure_in_process(spec: Spec, limit: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.sources", "--measure", json.dumps(spec),
               "--max-body-bytes", str(limit)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    """Measure each source at each size and print them next to local Parquet."""
    parser = argparse.ArgumentParser(prog="python -m bench.sources", description=__doc__)
    parser.add_argument("--rows", default="1000000", help="comma-separated sizes")
    parser.add_argument("--sources", default=",".join(PREPARERS),
                        help=f"comma-separated, from {', '.join(PREPARERS)}")
    parser.add_argument("--max-body-bytes", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--make-data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.make_data:
        _make_data(args.make_data, int(float(args.rows)), args.data_dir)
        return 0
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure), args.max_body_bytes)))
        return 0
    kinds = [kind.strip() for kind in args.sources.split(",") if kind.strip()]
    lines: list[str] = []
    peaks: dict[str, list[float]] = {}
    for rows in (int(float(part)) for part in args.rows.split(",")):
        baseline = None
        for kind in ["parquet", *[k for k in kinds if k != "parquet"]]:
            print(f"{kind}, {rows:,} rows ...", file=sys.stderr, flush=True)
            try:
                with PREPARERS[kind](rows, args.data_dir) as spec:
                    result = _measure_in_process(spec, args.max_body_bytes)
            except _SkippedError as skip:
                lines.append(f"{kind:<18} {rows:>12,}  skipped: {skip}")
                continue
            except Exception as exc:  # a missing service or driver: say so, measure the rest
                lines.append(f"{kind:<18} {rows:>12,}  not measured: {exc}")
                continue
            rate = result["rows"] / result["seconds"]
            baseline = rate if kind == "parquet" else baseline
            ratio = f"{rate / baseline:.2f}x" if baseline else "-"
            peaks.setdefault(kind, []).append(result["peak_rss_mb"])
            lines.append(f"{kind:<18} {result['rows']:>12,} {rate:>12,.0f} {ratio:>10} "
                         f"{result['peak_rss_mb']:>12,.0f} {result['bodies']:>8,}")
    print()
    print(f"{'source':<18} {'rows':>12} {'rows/s':>12} {'vs parquet':>10} "
          f"{'peak RSS MB':>12} {'bodies':>8}")
    print("-" * 77)
    print("\n".join(lines))
    print()
    print("Targets (peak RSS <= 400 MB; flat: the largest size at most 10% above the smallest):")
    for kind, values in peaks.items():
        flat = (f", {max(values) / min(values) - 1:+.0%} from smallest to largest size"
                if len(values) > 1 else "")
        verdict = "met" if max(values) <= TARGET_PEAK_RSS_MB else "NOT met"
        print(f"  {kind}: peak {max(values):,.0f} MB{flat} -> {verdict}")
        if kind in NOTES:
            print(f"    ({NOTES[kind]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
