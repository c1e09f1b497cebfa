"""``make dev``: the Dagster UI on the sample warehouse, wired to a running emulator.

Starts the emulator (state kept in ``.dagster_home/dev``), points the project at the sample
DuckDB warehouse, and runs ``dg dev`` on http://127.0.0.1:3000 until interrupted.

``--postgres`` (``make dev-postgres``) keeps Dagster's runs, event logs and schedule state in
PostgreSQL instead: the database named by ``DAGSTER_POSTGRES_URL`` (default
``postgresql://postgres@127.0.0.1:5432/dagster``, created when missing), with the instance in
``.dagster_home/postgres``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from dagster_project.local_instance import (
    DEFAULT_POSTGRES_URL,
    DEMO_CREDENTIALS,
    POSTGRES_INSTANCE_TEMPLATE,
    POSTGRES_URL_VARIABLE,
    REPO,
    create_database,
    dagster_home,
    demo_environment,
    demo_reports,
    running_emulator,
)


def _postgres_home() -> Path:
    url = os.environ.setdefault(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL)
    if create_database(url):
        print(f"created the Dagster database of {POSTGRES_URL_VARIABLE}")
    return dagster_home(dagster_home() / "postgres", POSTGRES_INSTANCE_TEMPLATE)


def main(argv: list[str] | None = None) -> int:
    """Run the emulator and the Dagster UI; returns the exit code of ``dg dev``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=3000, help="UI port (default 3000).")
    parser.add_argument(
        "--postgres", action="store_true", help=f"Dagster storage in {POSTGRES_URL_VARIABLE}."
    )
    args = parser.parse_args(argv)
    for name, value in DEMO_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    home = _postgres_home() if args.postgres else dagster_home()
    work = dagster_home() / "dev"
    work.mkdir(parents=True, exist_ok=True)
    from sample_data.build import build
    from sample_data.generate import FIRST_DAY

    warehouse = build(work / "warehouse.duckdb")
    with running_emulator(work / "emulator.sqlite3", demo_reports(FIRST_DAY)) as url:
        env = demo_environment(warehouse, work / "results.duckdb", url, home)
        ui = f"http://127.0.0.1:{args.port}"
        print(f"emulator {url}; Dagster UI on {ui} (Ctrl-C stops both)", flush=True)
        command = [str(Path(sys.executable).with_name("dg")), "dev", "--host", "127.0.0.1"]
        command += ["--port", str(args.port)]
        try:
            return subprocess.run(command, cwd=REPO, env=env, check=False).returncode
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
