"""Users to push and read back: a Parquet source and its mapping, written once per test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

USERS_MAPPING = {
    "entity": "users",
    "customer_id": "uid",
    "first_name": "first",
    "email": "email",
    "birthday": "born",
    "attributes": {
        "plan": "plan",
        "ltv": "ltv",
        "visits": "visits",
        "vip": "vip",
        "signup_at": "signup_at",
        "tags": "tags",
    },
}


def user_rows(n: int, start: int = 0) -> pa.Table:
    """``n`` users with text, float, integer, boolean, date, timestamp and list attributes."""
    ids = range(start, start + n)
    return pa.table(
        {
            "uid": [f"user-{i}" for i in ids],
            "first": [f"Name{i}" for i in ids],
            "email": [f"user{i}@example.com" for i in ids],
            "born": [dt.date(1980, 1, 1) + dt.timedelta(days=i) for i in ids],
            "plan": [("free", "gold", "pro")[i % 3] for i in ids],
            "ltv": [i * 1.25 for i in ids],
            "visits": pa.array(list(ids), pa.int64()),
            "vip": [i % 2 == 0 for i in ids],
            "signup_at": [
                dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(hours=i) for i in ids
            ],
            "tags": [["a", f"t{i % 5}"] for i in ids],
        }
    )


@pytest.fixture
def users_parquet(tmp_path: Path):
    """``write(table)`` -> a ``parquet:`` source spec of that table."""

    def write(table: pa.Table, name: str = "users.parquet") -> str:
        path = tmp_path / name
        pq.write_table(table, path)
        return f"parquet:{path}"

    return write


@pytest.fixture
def cli_env(monkeypatch, moengage_emulator_server, tmp_path: Path):
    """MOENGAGE_* variables pointing the CLI at the emulator's loopback server.

    The delivery state and the results go to a DuckDB file of the test; the rate budget is
    the process's own.
    """
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", "TEST_WORKSPACE")
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", "test-data-key")
    monkeypatch.setenv("MOENGAGE_CAMPAIGN_API_KEY", "test-campaign-key")
    monkeypatch.setenv("MOENGAGE_BASE_URL", moengage_emulator_server.url)
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", "memory")
    monkeypatch.setenv("MOENGAGE_STATE_URL", f"duckdb:///{tmp_path / 'state.duckdb'}")
    return moengage_emulator_server.emulator
