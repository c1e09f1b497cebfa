"""The table of confirmed row hashes, ``moengage_sync_state``, in the state store.

One row per sync, destination and row key (a customer id, a catalog item id, or for events
the element hash itself):

=============  ============  ========================================================
column         type          meaning
=============  ============  ========================================================
sync_name      text          the sync (e.g. an asset key)
destination    text          where the rows go: API base URL, workspace and entity
entity         text          ``users``, ``catalog`` or ``events``
row_key        text          the customer id or item id as sent (events: the hash)
element_hash   text, null    MD5 of the element MoEngage confirmed (null: none yet)
pending_hash   text, null    MD5 of the element last handed to delivery and not yet
                             confirmed (a failed, held or interrupted send)
push_id        text, null    the push that confirmed ``element_hash``
row_number     bigint, null  its source row in that push (the last occurrence wins)
window_end     timestamptz   events: the end of the window that sent the row; rows of
                             windows ending before a later run's window are pruned
synced_at      timestamptz   when ``element_hash`` was confirmed (UTC)
=============  ============  ========================================================

One row per (sync_name, destination, row_key). In PostgreSQL the primary key holds that and
lets each confirmation be one upsert. A DuckDB store has no key: DuckDB keeps a key's index in
memory (it cannot spill), so a push of millions of new keys would need memory in proportion to
the table; there ``RowHashes`` keeps the keys unique itself (it updates the keys the table holds
and inserts only the others).
"""

from __future__ import annotations

from moengage_pipelines.warehouse import DuckDBWarehouse, Warehouse, quote_identifier

__all__ = ["SYNC_STATE_TABLE", "create_sync_state"]

SYNC_STATE_TABLE = "moengage_sync_state"

_COLUMNS = """
    sync_name TEXT NOT NULL,
    destination TEXT NOT NULL,
    entity TEXT NOT NULL,
    row_key TEXT NOT NULL,
    element_hash TEXT,
    pending_hash TEXT,
    push_id TEXT,
    row_number BIGINT,
    window_end TIMESTAMPTZ,
    synced_at TIMESTAMPTZ"""
_KEY = ",\n    PRIMARY KEY (sync_name, destination, row_key)\n"


def create_sync_state(warehouse: Warehouse, table: str = SYNC_STATE_TABLE) -> str:
    """Create the table if it is missing; return its SQL name."""
    name = warehouse.table_name(table)
    if not warehouse.table_exists(name):
        if name.schema:
            warehouse.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(name.schema)}")
        key = "" if isinstance(warehouse, DuckDBWarehouse) else _KEY
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {name.sql} ({_COLUMNS}{key})")
    return name.sql
