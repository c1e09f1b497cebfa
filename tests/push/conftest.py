"""Fixtures for push tests: Parquet sources, a DuckDB dead-letter table, emulator clients."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.push.dead_letters import DeadLetterWriter
from moengage_pipelines.sources import ParquetSource
from moengage_pipelines.warehouse import Warehouse
from tests.push.cli_data import EVENTS_MAPPING, ROWS

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def parquet_source(tmp_path: Path) -> Callable[..., ParquetSource]:
    """``parquet_source(table_or_dict, time_column=None)``: a ParquetSource on a real file."""
    counter = iter(range(1_000))

    def build(data: pa.Table | dict, time_column: str | None = None) -> ParquetSource:
        table = data if isinstance(data, pa.Table) else pa.table(data)
        path = tmp_path / f"source-{next(counter)}.parquet"
        pq.write_table(table, path)
        return ParquetSource(path, time_column=time_column)

    return build


@pytest.fixture
def results(tmp_path: Path) -> Iterator[Warehouse]:
    """A DuckDB warehouse file receiving dead letters and catalog state."""
    with Warehouse.open(f"duckdb:///{tmp_path / 'results.duckdb'}") as warehouse:
        yield warehouse


@pytest.fixture
def dead_letters(results: Warehouse) -> DeadLetterWriter:
    return DeadLetterWriter(results)


@pytest.fixture
def client(moengage_emulator, moengage_emulator_settings):
    """A real MoEngageClient talking to the in-process emulator."""
    from moengage_pipelines.api.client import MoEngageClient

    with MoEngageClient(
        moengage_emulator_settings, transport=moengage_emulator.transport()
    ) as instance:
        yield instance


@pytest.fixture
def files(tmp_path):
    table = pa.table(
        {
            "uid": [row[0] for row in ROWS],
            "at": pa.array([row[1] for row in ROWS], pa.timestamp("us")),
            "price": [row[2] for row in ROWS],
        }
    )
    source = tmp_path / "events.parquet"
    pq.write_table(table, source)
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    return source, mapping


@pytest.fixture
def server_env(monkeypatch, moengage_emulator_server):
    """MOENGAGE_* variables pointing the CLI at the emulator's loopback server."""
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", "TEST_WORKSPACE")
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", "test-data-key")
    monkeypatch.setenv("MOENGAGE_CAMPAIGN_API_KEY", "test-campaign-key")
    monkeypatch.setenv("MOENGAGE_BASE_URL", moengage_emulator_server.url)
    return moengage_emulator_server.emulator


@pytest.fixture(params=["duckdb", "postgres"])
def state_url(request, tmp_path: Path) -> Iterator[str]:
    """The URL of a delivery state another process can open: a DuckDB file or a fresh schema."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'state.duckdb'}"
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"state_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{dsn}?schema={schema}"
    finally:
        with Warehouse.open(dsn) as warehouse:
            warehouse.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def state(state_url: str) -> Iterator[Warehouse]:
    """The delivery state opened in this process: a DuckDB file or a fresh PostgreSQL schema."""
    with Warehouse.open(state_url) as warehouse:
        yield warehouse
