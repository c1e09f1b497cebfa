"""Fixtures giving a real DuckDB file or a real PostgreSQL schema, unique per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from moengage_pipelines.warehouse import Warehouse, quote_identifier


def unique_schema() -> str:
    return f"mp_test_{uuid.uuid4().hex[:12]}"


def drop_schema(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {quote_identifier(schema)} CASCADE")


@pytest.fixture
def pg_schema(postgres_dsn: str) -> Iterator[str]:
    """A fresh PostgreSQL schema name, dropped (with its tables) after the test."""
    schema = unique_schema()
    yield schema
    drop_schema(postgres_dsn, schema)


@pytest.fixture
def pg_url(postgres_dsn: str, pg_schema: str) -> str:
    """URL of the test database scoped to a fresh schema."""
    return f"{postgres_dsn}?schema={pg_schema}"


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    return f"duckdb://{tmp_path / 'warehouse.duckdb'}"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A warehouse URL on each backend in turn."""
    if request.param == "duckdb":
        yield f"duckdb://{tmp_path / 'warehouse.duckdb'}"
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = unique_schema()
    yield f"{dsn}?schema={schema}"
    drop_schema(dsn, schema)


@pytest.fixture
def warehouse(warehouse_url: str) -> Iterator[Warehouse]:
    """An open warehouse on each backend in turn."""
    with Warehouse.open(warehouse_url) as opened:
        yield opened
