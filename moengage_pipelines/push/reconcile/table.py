"""``moengage_reconciliation``: one row per attribute MoEngage does not hold as sent.

Columns: ``run_id`` (one reconciliation), ``sync_name``, ``partition``, ``customer_id``,
``attribute``, ``reason`` (``user_not_found``, ``missing``, ``different``), ``sent`` and
``found`` (the values as JSON text, so that ``"3"`` and ``3`` stay apart) and
``checked_at``. The table holds what was sent to MoEngage and nothing else: no key or
connection setting ever reaches it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import orjson
import pyarrow as pa

from moengage_pipelines.push.reconcile.compare import Mismatch
from moengage_pipelines.warehouse import Warehouse

__all__ = ["RECONCILIATION_SCHEMA", "RECONCILIATION_TABLE", "ReconciliationWriter"]

RECONCILIATION_TABLE = "moengage_reconciliation"

RECONCILIATION_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("sync_name", pa.string(), nullable=False),
        pa.field("partition", pa.string()),
        pa.field("customer_id", pa.string(), nullable=False),
        pa.field("attribute", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("sent", pa.string()),
        pa.field("found", pa.string()),
        pa.field("checked_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


def _json(value: object) -> str | None:
    if value is None:
        return None
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


class ReconciliationWriter:
    """Appends mismatches to the reconciliation table of a results warehouse.

    Args:
        warehouse: The results warehouse (DuckDB or PostgreSQL).
        table: The table's name (``schema.name`` allowed).
    """

    def __init__(self, warehouse: Warehouse, table: str = RECONCILIATION_TABLE) -> None:
        self.warehouse = warehouse
        self.table = table

    def write(
        self,
        mismatches: Iterable[Mismatch],
        *,
        run_id: str,
        sync_name: str,
        partition: str | None = None,
        checked_at: dt.datetime | None = None,
    ) -> int:
        """Append one row per mismatch; returns the rows written (0 writes nothing)."""
        rows = list(mismatches)
        if not rows:
            return 0
        when = checked_at or dt.datetime.now(dt.UTC)
        table = pa.Table.from_pydict(
            {
                "run_id": [run_id] * len(rows),
                "sync_name": [sync_name] * len(rows),
                "partition": [partition] * len(rows),
                "customer_id": [m.customer_id for m in rows],
                "attribute": [m.attribute for m in rows],
                "reason": [m.reason for m in rows],
                "sent": [_json(m.sent) for m in rows],
                "found": [_json(m.found) for m in rows],
                "checked_at": [when] * len(rows),
            },
            schema=RECONCILIATION_SCHEMA,
        )
        return self.warehouse.append(self.table, table)

    def mismatches(self, run_id: str) -> list[dict[str, object]]:
        """The rows of one reconciliation, as dictionaries (empty when it found none)."""
        if not self.warehouse.table_exists(self.table):
            return []
        name = self.warehouse.table_name(self.table).sql
        placeholder = self.warehouse.param(1)
        return self.warehouse.query(
            f"SELECT * FROM {name} WHERE run_id = {placeholder} ORDER BY customer_id, attribute",
            [run_id],
        ).to_pylist()
