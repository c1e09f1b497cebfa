"""The Dagster instance of ``make dev-postgres``: runs and event logs kept in PostgreSQL.

The push job runs for one partition on an instance built from
``dagster_project/dagster_postgres.yaml`` against a database of its own on the local server;
a second instance opened from the same settings then reads the run and its materializations
back, and the rows are looked up in PostgreSQL directly.
"""

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from dagster_project.definitions import defs as load_defs
from dagster_project.local_instance import (
    POSTGRES_INSTANCE_TEMPLATE,
    POSTGRES_URL_VARIABLE,
    create_database,
    dagster_home,
)
from sample_data.generate import DEMO_DAY

pytestmark = pytest.mark.postgres
EVENTS = dg.AssetKey(["moengage", "events"])


@pytest.fixture
def dagster_database(postgres_dsn: str) -> Iterator[str]:
    """A database of its own on the local server, dropped afterwards."""
    name = f"dagster_{uuid.uuid4().hex[:12]}"
    # dagster-postgres takes a SQLAlchemy URL naming psycopg2 (see dagster_postgres.yaml).
    parts = urlsplit(postgres_dsn)
    url = parts._replace(scheme="postgresql+psycopg2", path=f"/{name}").geturl()
    assert create_database(url)
    assert not create_database(url)  # a second call finds it
    try:
        yield url
    finally:
        admin = psycopg.conninfo.make_conninfo(postgres_dsn, dbname="postgres")
        with psycopg.connect(admin, autocommit=True) as connection:
            statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            connection.execute(statement.format(sql.Identifier(name)))


def test_push_job_runs_with_run_and_event_storage_in_postgres(
    deployment, dagster_database, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(POSTGRES_URL_VARIABLE, dagster_database)
    home = dagster_home(tmp_path / "home", POSTGRES_INSTANCE_TEMPLATE)
    job = load_defs().resolve_job_def("nightly_moengage_sync")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        result = job.execute_in_process(
            partition_key=DEMO_DAY.isoformat(),
            instance=instance,
            asset_selection=[EVENTS],
            raise_on_error=False,
        )
    assert result.success

    with dg.DagsterInstance.from_config(str(home)) as reopened:
        run = reopened.get_run_by_id(result.run_id)
        assert run is not None and run.status == dg.DagsterRunStatus.SUCCESS
        assert run.tags["dagster/partition"] == DEMO_DAY.isoformat()
        records = reopened.fetch_materializations(EVENTS, limit=10).records
        assert [record.partition_key for record in records] == [DEMO_DAY.isoformat()]
        assert records[0].run_id == result.run_id

    with psycopg.connect(dagster_database.replace("+psycopg2", "")) as connection:
        stored = connection.execute(
            "SELECT status FROM runs WHERE run_id = %s", [result.run_id]
        ).fetchone()
        events = connection.execute(
            "SELECT count(*) FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
            [result.run_id, "ASSET_MATERIALIZATION"],
        ).fetchone()[0]
    assert stored == ("SUCCESS",)
    assert events == 1
