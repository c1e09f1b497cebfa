"""The naive baseline: pandas ``to_dict`` + ``json.dumps`` per row + greedy packing."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

PREFIX = b'{"type":"transition","elements":['
SUFFIX = b"]}"


def naive_pack(path: Path, limit: int) -> dict[str, int]:
    """Build bulk-import bodies the way a typical script does; returns totals."""
    bodies = total_bytes = largest = rows = 0
    pending: list[bytes] = []
    size = len(PREFIX) + len(SUFFIX)

    def emit() -> None:
        nonlocal bodies, total_bytes, largest
        payload = PREFIX + b",".join(pending) + SUFFIX
        bodies += 1
        total_bytes += len(payload)
        largest = max(largest, len(payload))

    # Batch by batch so that memory stays comparable; the per-row work is the naive part.
    for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536):
        for record in batch.to_pandas().to_dict("records"):
            rows += 1
            element = {
                "type": "event",
                "customer_id": record["customer_id"],
                "actions": [
                    {
                        "action": record["event_name"],
                        "attributes": {
                            "price": record["price"],
                            "quantity": int(record["quantity"]),
                            "is_gift": bool(record["is_gift"]),
                            "sku": record["sku"],
                            "note": record["note"],
                        },
                        "platform": record["platform"],
                        "app_version": "5.2.0",
                        "current_time": record["event_time"].strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ],
            }
            data = json.dumps(element, separators=(",", ":"), ensure_ascii=False).encode()
            extra = len(data) + (1 if pending else 0)
            if pending and size + extra > limit:
                emit()
                pending = []
                size = len(PREFIX) + len(SUFFIX)
                extra = len(data)
            pending.append(data)
            size += extra
    if pending:
        emit()
    return {"rows": rows, "rows_sent": rows, "bodies": bodies, "bytes": total_bytes,
            "largest_body": largest, "rejected": 0}
