"""Deterministic benchmark data: N events as Parquet, generated once into ``.bench/``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

CHUNK_ROWS = 1_000_000
SEED = 20_240_301
EVENT_NAMES = ["Purchase", "Add To Cart", "Viewed Product", "Signed Up", "Café visit ☕"]
PLATFORMS = ["ANDROID", "iOS", "web", "android", "Web"]
NOTES = ["", 'said "hello"', "ünïcödé text", "line\nbreak", "tab\tand \\ backslash"]
START = np.datetime64("2024-11-01T00:00:00", "us")
SPAN_US = 60 * 24 * 3600 * 10**6  # 60 days

MAPPING = {
    "entity": "events",
    "customer_id": "customer_id",
    "event_name_column": "event_name",
    "event_time_column": "event_time",
    "platform_column": "platform",
    "app_version": "5.2.0",
    "attributes": ["price", "quantity", "is_gift", "sku", "note"],
}


def _chunk(index: int, rows: int) -> pa.Table:
    rng = np.random.default_rng(SEED + index)
    users = rng.integers(0, 2_000_000, rows)
    customer_id = pc.binary_join_element_wise("user_", pc.cast(pa.array(users), pa.string()), "")
    # One row in a thousand carries a placeholder id MoEngage refuses.
    banned = rng.random(rows) < 0.001
    customer_id = pc.if_else(pa.array(banned), pa.scalar("null"), customer_id)
    times = START + rng.integers(0, SPAN_US, rows).astype("timedelta64[us]")
    return pa.table(
        {
            "customer_id": customer_id,
            "event_name": pa.array(np.array(EVENT_NAMES)[rng.integers(0, 5, rows)]),
            "event_time": pa.array(times, pa.timestamp("us")),
            "platform": pa.array(np.array(PLATFORMS)[rng.integers(0, 5, rows)]),
            "price": pa.array(np.round(rng.random(rows) * 500, 2)),
            "quantity": pa.array(rng.integers(1, 10, rows)),
            "is_gift": pa.array(rng.random(rows) < 0.1),
            "sku": pc.binary_join_element_wise(
                "SKU-", pc.cast(pa.array(rng.integers(0, 50_000, rows)), pa.string()), ""
            ),
            "note": pa.array(np.array(NOTES)[rng.integers(0, 5, rows)]),
        }
    )


def events_file(rows: int, directory: Path) -> Path:
    """The Parquet file of ``rows`` events, generated on first use (same bytes every time)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"events-{rows}.parquet"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    writer = None
    try:
        for index, start in enumerate(range(0, rows, CHUNK_ROWS)):
            table = _chunk(index, min(CHUNK_ROWS, rows - start))
            if writer is None:
                writer = pq.ParquetWriter(partial, table.schema)
            writer.write_table(table, row_group_size=128 * 1024)
    finally:
        if writer is not None:
            writer.close()
    partial.rename(path)
    return path


def split_file(path: Path, parts: int) -> list[Path]:
    """Split a file into ``parts`` files of consecutive rows (cached next to it)."""
    targets = [path.with_name(f"{path.stem}-part{k}of{parts}.parquet") for k in range(parts)]
    if all(target.exists() for target in targets):
        return targets
    table = pq.read_table(path)
    size = -(-table.num_rows // parts)
    for k, target in enumerate(targets):
        pq.write_table(table.slice(k * size, size), target, row_group_size=128 * 1024)
    return targets
