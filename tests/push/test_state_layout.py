"""A state store written by an older layout or by another project is refused, never reused."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.ledger.layout import (
    LAYOUT_TABLE,
    LAYOUT_VERSION,
    PROJECT,
    StateLayoutError,
)
from moengage_pipelines.push.ledger.location import open_state
from moengage_pipelines.push.ledger.tables import RUNS_SCHEMA
from moengage_pipelines.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["duckdb", "postgres"])
def store_url(request, tmp_path: Path) -> Iterator[str]:
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'state.duckdb'}"
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"layout_{uuid.uuid4().hex[:12]}"
    yield f"{dsn}?schema={schema}" if "?" not in dsn else f"{dsn}&schema={schema}"
    with Warehouse.open(dsn) as warehouse:
        warehouse.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _marker(url: str) -> list[dict]:
    with Warehouse.open(url) as warehouse:
        return warehouse.query(f"SELECT project, layout FROM {LAYOUT_TABLE}").to_pylist()


def test_a_new_store_gets_the_marker(store_url):
    with open_state(store_url) as warehouse:
        PushLedger(warehouse).write_run({name: None for name in RUNS_SCHEMA.names} | {
            "push_id": "p", "sync_name": "s", "entity": "users", "resend": "ambiguous",
            "started_at": pa.scalar(0, pa.timestamp("us", tz="UTC")).as_py(),
            "status": "running", **{n: 0 for n in RUNS_SCHEMA.names if n.startswith(("bodies",
                                                                                     "rows"))},
        })
    assert _marker(store_url) == [{"project": PROJECT, "layout": LAYOUT_VERSION}]
    with open_state(store_url) as warehouse:  # and is opened again without complaint
        assert warehouse.table_exists("moengage_push_runs")


def test_a_store_of_the_older_layout_is_refused(store_url):
    with Warehouse.open(store_url) as warehouse:
        # What an older version left: the body ledger's tables and no marker.
        warehouse.replace_rows("moengage_push_runs", RUNS_SCHEMA.empty_table())
    with pytest.raises(StateLayoutError, match=r"older version.*moengage_push_runs"), \
            open_state(store_url):
        pass
    with Warehouse.open(store_url) as warehouse:  # left untouched
        assert not warehouse.table_exists(LAYOUT_TABLE)


# Layout 2: a DuckDB store's row hashes had a primary key (the writer now keeps keys unique).
@pytest.mark.parametrize("project,layout", [
    ("another-tool", 1), (PROJECT, 2), (PROJECT, LAYOUT_VERSION + 1),
])
def test_a_store_of_another_project_or_layout_is_refused(store_url, project, layout):
    with Warehouse.open(store_url) as warehouse:
        warehouse.replace_rows(LAYOUT_TABLE, pa.table({
            "project": [project], "layout": pa.array([layout], pa.int64()),
        }))
    with pytest.raises(StateLayoutError, match=f"{project} layout {layout}"), \
            open_state(store_url):
        pass
    with pytest.raises(StateLayoutError), open_state(store_url, read_only=True):
        pass


def test_a_foreign_marker_table_is_refused(store_url):
    with Warehouse.open(store_url) as warehouse:
        warehouse.replace_rows(LAYOUT_TABLE, pa.table({"owner": ["someone"]}))
    with pytest.raises(StateLayoutError, match="did not write"), open_state(store_url):
        pass


def test_the_cli_refuses_an_older_store_with_an_error_line(tmp_path):
    state = tmp_path / "old.duckdb"
    with Warehouse.open(f"duckdb:///{state}") as warehouse:
        warehouse.replace_rows("moengage_push_runs", RUNS_SCHEMA.empty_table())
    source = tmp_path / "users.parquet"
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"uid": ["a", "b"]}), source)
    (tmp_path / "users.yml").write_text("entity: users\ncustomer_id: uid\n")
    done = subprocess.run(
        [sys.executable, "-m", "moengage_pipelines.cli", "push", "users", "--source",
         str(source), "--mapping", str(tmp_path / "users.yml"), "--state",
         f"duckdb:///{state}", "--dry-run"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: the state store")
    assert "older version" in done.stderr and "Traceback" not in done.stderr
