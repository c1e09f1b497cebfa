"""The state store's layout marker: which project wrote it, in which layout version.

A state store is a warehouse (a DuckDB file or a PostgreSQL schema) holding the delivery
state's tables. Reading tables written by another project, or by an older layout of this one,
would silently mix meanings (a body ledger read as row hashes, a cursor from another tool), so
every store carries one row in ``moengage_state_layout``:

===========  ============  =================================================
column       type          meaning
===========  ============  =================================================
project      text          ``moengage-pipelines``
layout       bigint        the layout version of the state's tables
written_at   timestamptz   when the marker was written (UTC)
===========  ============  =================================================

A store without the marker but with the delivery state's tables was written before the
marker existed; one with another project or layout is refused, never reused. An empty store
gets the marker on its first write.
"""

from __future__ import annotations

import threading
import weakref
from datetime import UTC, datetime

import pyarrow as pa

from moengage_pipelines.errors import ConfigError
from moengage_pipelines.warehouse import Warehouse

__all__ = [
    "LAYOUT_TABLE",
    "LAYOUT_VERSION",
    "PROJECT",
    "StateLayoutError",
    "check_layout",
    "ensure_layout",
]

PROJECT = "moengage-pipelines"
# 1: body ledger and push runs only (no marker was written). 2: adds the marker, the row
# hashes of diff syncs and the sync history. 3: a DuckDB store's row hashes have no primary
# key (their writer keeps the keys unique).
LAYOUT_VERSION = 3
LAYOUT_TABLE = "moengage_state_layout"
# Tables whose presence without a marker means a store of layout 1.
_LAYOUT_1_TABLES = ("moengage_push_ledger", "moengage_push_runs")

LAYOUT_SCHEMA = pa.schema(
    [
        pa.field("project", pa.string(), nullable=False),
        pa.field("layout", pa.int64(), nullable=False),
        pa.field("written_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)

# Stores already checked (or marked) by this process, forgotten with their connection.
_checked: weakref.WeakSet[Warehouse] = weakref.WeakSet()
_lock = threading.Lock()


class StateLayoutError(ConfigError):
    """The state store was written by another project or another layout: it is not reused."""


def check_layout(warehouse: Warehouse) -> bool:
    """Refuse a state store of another project or layout.

    Args:
        warehouse: The state store.

    Returns:
        True when the store carries this project's current marker; False when it carries
        none and holds none of the state's tables (a new store).

    Raises:
        StateLayoutError: When the marker names another project or layout, or the state's
            tables are there without a marker (a store written by an older version).
    """
    where = warehouse.describe()
    fix = (
        "point --state (MOENGAGE_STATE_URL) at a new DuckDB file or PostgreSQL schema; "
        "this store is left untouched"
    )
    name = warehouse.table_name(LAYOUT_TABLE)
    if not warehouse.table_exists(name):
        older = [table for table in _LAYOUT_1_TABLES if warehouse.table_exists(table)]
        if older:
            raise StateLayoutError(
                f"the state store {where} was written by an older version of {PROJECT} "
                f"(tables {', '.join(older)} without a {LAYOUT_TABLE} marker; this version "
                f"writes layout {LAYOUT_VERSION}): {fix}"
            )
        return False
    columns = warehouse.columns(name)
    if "project" not in columns or "layout" not in columns:
        raise StateLayoutError(
            f"the state store {where} has a {LAYOUT_TABLE} table this project did not write "
            f"(columns: {', '.join(columns)}): {fix}"
        )
    rows = warehouse.query(f"SELECT project, layout FROM {name.sql}").to_pylist()
    found = {(str(row["project"]), int(row["layout"])) for row in rows}
    if found != {(PROJECT, LAYOUT_VERSION)}:
        shown = ", ".join(f"{project} layout {layout}" for project, layout in sorted(found))
        raise StateLayoutError(
            f"the state store {where} was written by {shown or 'nothing (an empty marker)'}; "
            f"this version of {PROJECT} reads layout {LAYOUT_VERSION} only: {fix}"
        )
    return True


def ensure_layout(warehouse: Warehouse, *, read_only: bool = False) -> None:
    """Check the store's marker once per connection; write it into a new, writable store.

    Raises:
        StateLayoutError: See :func:`check_layout`.
    """
    with _lock:
        if warehouse in _checked:
            return
        marked = check_layout(warehouse)
        if not marked and not read_only:
            row = {"project": PROJECT, "layout": LAYOUT_VERSION, "written_at": datetime.now(UTC)}
            warehouse.replace_rows(
                LAYOUT_TABLE, pa.RecordBatch.from_pylist([row], schema=LAYOUT_SCHEMA)
            )
            marked = True
        if marked:
            _checked.add(warehouse)
