"""Build the sample DuckDB warehouse from the Parquet files next to this script.

``python -m sample_data.build [PATH]`` writes ``sample_data/warehouse.duckdb`` (or PATH) with the
tables ``users``, ``events`` and ``catalog_items``, replacing them if they exist. The Parquet
files are generated first when missing or dated for another day (see ``sample_data.generate``).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb

from sample_data.generate import DEMO_DAY, TABLES, sample_files

HERE = Path(__file__).parent
DEFAULT_DATABASE = HERE / "warehouse.duckdb"


def build(database: Path = DEFAULT_DATABASE, demo_day: date = DEMO_DAY) -> Path:
    """Create or refresh the sample tables for ``demo_day`` in ``database``; return its path."""
    database.parent.mkdir(parents=True, exist_ok=True)
    files = sample_files(demo_day=demo_day)
    with duckdb.connect(str(database)) as connection:
        for table in TABLES:
            source = files[table]
            connection.execute(
                f'CREATE OR REPLACE TABLE "{table}" AS SELECT * FROM read_parquet(?)', [str(source)]
            )
    return database


if __name__ == "__main__":
    target = build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DATABASE)
    with duckdb.connect(str(target), read_only=True) as connection:
        counts = {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in TABLES
        }
    print(f"sample warehouse {target}: " + ", ".join(f"{t} {n}" for t, n in counts.items()))
