"""``make dev``: the Dagster UI on the sample warehouse, wired to a running emulator.

Starts the emulator (state kept in ``.dagster_home/dev``), points the project at the sample
DuckDB warehouse, and runs ``dg dev`` on http://127.0.0.1:3000 until interrupted.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_project.local_instance import (
    DEMO_CREDENTIALS,
    REPO,
    dagster_home,
    demo_environment,
    running_emulator,
)


def main() -> int:
    """Run the emulator and the Dagster UI; returns the exit code of ``dg dev``."""
    for name, value in DEMO_CREDENTIALS.items():
        os.environ.setdefault(name, value)
    work = dagster_home() / "dev"
    work.mkdir(parents=True, exist_ok=True)
    from sample_data.build import build

    warehouse = build(work / "warehouse.duckdb")
    with running_emulator(database=work / "emulator.sqlite3") as url:
        env = demo_environment(warehouse, work / "results.duckdb", url)
        print(f"emulator {url}; Dagster UI on http://127.0.0.1:3000 (Ctrl-C stops both)")
        command = [str(Path(sys.executable).with_name("dg")), "dev", "--host", "127.0.0.1"]
        try:
            return subprocess.run(command, cwd=REPO, env=env, check=False).returncode
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    sys.exit(main())
