"""Prepare the local Dagster instance and the demo environment shared by ``make demo``/``dev``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INSTANCE_TEMPLATE = Path(__file__).with_name("dagster.yaml")
POSTGRES_INSTANCE_TEMPLATE = Path(__file__).with_name("dagster_postgres.yaml")
POSTGRES_URL_VARIABLE = "DAGSTER_POSTGRES_URL"
# The driver is named: SQLAlchemy 2.1 picks psycopg 3 for a bare postgresql:// URL, and
# dagster-postgres's NOTIFY statements only work with psycopg2's client-side parameters.
DEFAULT_POSTGRES_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/dagster"
URL_LINE = re.compile(r"(https?://127\.0\.0\.1:\d+)")

__all__ = [
    "DEMO_CREDENTIALS",
    "DEMO_REPORT_NAME",
    "create_database",
    "dagster_home",
    "demo_environment",
    "demo_reports",
    "running_emulator",
]

# Credentials the demo's emulator accepts; real deployments set their own variables.
DEMO_CREDENTIALS = {
    "MOENGAGE_WORKSPACE_ID": "DEMO_WORKSPACE",
    "MOENGAGE_DATA_API_KEY": "demo-data-key",
    "MOENGAGE_CAMPAIGN_API_KEY": "demo-campaign-key",
}
# A daily campaign report "configured in the dashboard" of the demo's emulator; the report asset
# downloads its file (MoEngage keeps each file 7 days, so recent partitions find theirs).
DEMO_REPORT_NAME = "Daily Campaign Report"


def demo_reports(first_day: date) -> str:
    """The emulator's report definitions (``--reports``): one daily report from ``first_day``."""
    definition = {"name": DEMO_REPORT_NAME, "generated_on": first_day.isoformat()}
    return json.dumps([{**definition, "schedule": "daily"}])


def dagster_home(home: Path | None = None, template: Path = INSTANCE_TEMPLATE) -> Path:
    """Create a Dagster home with the project's instance settings; return its path.

    Args:
        home: The directory (default ``$DAGSTER_HOME``, else ``.dagster_home``).
        template: The instance settings copied to ``dagster.yaml`` (default: local storage;
            ``POSTGRES_INSTANCE_TEMPLATE`` keeps runs and events in PostgreSQL).
    """
    home = (home or Path(os.environ.get("DAGSTER_HOME") or REPO / ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != template.read_bytes():
        shutil.copyfile(template, target)
    return home


def create_database(url: str) -> bool:
    """Create the database ``url`` names on its server unless it exists; True when created.

    Connects to the server's ``postgres`` database with the same user, host and port.
    """
    import psycopg
    from psycopg import sql

    # libpq reads postgresql:// URLs only; drop a SQLAlchemy "+driver" suffix.
    url = re.sub(r"^postgres(?:ql)?\+\w+://", "postgresql://", url)
    name = psycopg.conninfo.conninfo_to_dict(url).get("dbname")
    if not name:
        raise ValueError("the Dagster PostgreSQL URL names no database")
    admin = psycopg.conninfo.make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone():
            return False
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


@contextmanager
def running_emulator(database: Path | None = None, reports: str | None = None) -> Iterator[str]:
    """Start ``moengage-pipelines emulator`` on a free loopback port; yield its URL; stop it.

    Args:
        database: The emulator's SQLite file (None: in memory).
        reports: Report definitions as a JSON list (see ``demo_reports``).
    """
    command = [sys.executable, "-m", "moengage_pipelines.cli", "emulator", "--host", "127.0.0.1"]
    command += ["--port", "0"]
    if database is not None:
        command += ["--database", str(database)]
    if reports is not None:
        command += ["--reports", reports]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy()
    )
    try:
        url = None
        seen = []
        assert process.stdout is not None
        for line in process.stdout:
            seen.append(line)
            match = URL_LINE.search(line)
            if match:
                url = match.group(1)
                break
        if url is None:
            raise RuntimeError("the emulator did not start:\n" + "".join(seen))
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def demo_environment(
    warehouse: Path, results: Path, emulator_url: str, home: Path | None = None
) -> dict[str, str]:
    """Environment variables pointing the Dagster project at the sample data and the emulator.

    Args:
        warehouse: The sample DuckDB warehouse.
        results: The DuckDB file receiving dead letters and pulled tables.
        emulator_url: The running emulator.
        home: The Dagster home (default: ``dagster_home()``).
    """
    env = {**DEMO_CREDENTIALS, **os.environ}
    env["MOENGAGE_BASE_URL"] = emulator_url
    env["MOENGAGE_WAREHOUSE_URL"] = f"duckdb:///{warehouse}"
    env["MOENGAGE_RESULTS_URL"] = f"duckdb:///{results}"
    env.setdefault("MOENGAGE_REPORT_NAMES", DEMO_REPORT_NAME)
    env["DAGSTER_HOME"] = str(home or dagster_home())
    return env
