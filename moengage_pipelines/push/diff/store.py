"""``RowHashes``: one sync's confirmed row hashes in the state store, read and written in bulk.

Every exchange is set-based: a batch of (key, hash) pairs goes to the store as one Arrow
relation and comes back as one joined result. With a DuckDB store the batch is registered on
a cursor of the store's own connection (no copy); with PostgreSQL it is shipped with ``COPY``
into a staging table and joined there. Nothing loops over rows in Python.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from moengage_pipelines.push.diff.fragments import (
    fill,
    numbered_slice,
    scope,
    timestamp,
    values_relation,
)
from moengage_pipelines.push.diff.tables import SYNC_STATE_TABLE, create_sync_state
from moengage_pipelines.push.ledger.layout import ensure_layout
from moengage_pipelines.warehouse import DuckDBWarehouse, Warehouse, quote_literal

__all__ = ["RowHashes", "last_destination"]

STAGING_TABLE = "moengage_sync_staging"
# A DuckDB store is written a slice of rows at a time: one statement over every row would keep
# the update's old versions of all of them in memory (they cannot spill), so the memory of a
# push would grow with its rows. Updates cost a pass over the table each, so their slices are
# larger. The table has no primary key (its index would stay in memory, growing with the
# table): the keys stay unique because only the keys the table lacks are inserted.
UPDATE_ROWS = 262_144
INSERT_ROWS = 65_536


class RowHashes:
    """The confirmed hashes of one sync's rows at one destination.

    Args:
        warehouse: The state store (DuckDB or PostgreSQL).
        sync_name: The sync.
        destination: Where its rows go (``destination_of``).
        entity: ``users``, ``catalog`` or ``events``.
        read_only: Consult only (a dry run): nothing is created or written.
        table: The hash table's name.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        *,
        sync_name: str,
        destination: str,
        entity: str,
        read_only: bool = False,
        table: str = SYNC_STATE_TABLE,
    ) -> None:
        ensure_layout(warehouse, read_only=read_only)
        self.warehouse = warehouse
        self.read_only = read_only
        self.entity = entity
        self._scope = scope(sync_name, destination, "")
        self._scope_s = scope(sync_name, destination, "s.")
        self._scope_t = scope(sync_name, destination, "t.")
        self._values = (
            f"{quote_literal(sync_name)} AS sync_name, {quote_literal(destination)} AS "
            f"destination, {quote_literal(entity)} AS entity"
        )
        name = warehouse.table_name(table)
        self._exists = warehouse.table_exists(name)
        self.table = name.sql
        if not read_only and not self._exists:
            create_sync_state(warehouse, table)
            self._exists = True
        self._cursor = None
        if isinstance(warehouse, DuckDBWarehouse):
            # Its own cursor: registered batches stay private to this sync's thread.
            self._cursor = warehouse.connection.cursor()
            self._cursor.execute("SET TimeZone = 'UTC'")
        self._token = uuid.uuid4().hex

    @property
    def workspace(self) -> duckdb.DuckDBPyConnection | None:
        """A cursor of a DuckDB store (None for PostgreSQL).

        A diff keeps its run's temporary tables there and compares them with the hashes in
        one statement.
        """
        return self._cursor

    def classified(self, relation: str) -> str:
        """SQL classifying the rows of ``relation`` against the store (with ``workspace``).

        ``relation`` has ``row_number``, ``row_key`` and ``element_hash``; the result adds
        ``class``: ``unchanged``, ``retried``, ``new`` or ``changed``.
        """
        hashes = (
            f"SELECT row_key, element_hash AS synced, pending_hash AS pending "
            f"FROM {self.table} WHERE {self._scope}"
            if self._exists else
            "SELECT NULL::VARCHAR AS row_key, NULL::VARCHAR AS synced, NULL::VARCHAR AS pending "
            "WHERE false"
        )
        return (
            "SELECT l.row_number, l.row_key, l.element_hash, CASE "
            "WHEN s.synced = l.element_hash THEN 'unchanged' "
            "WHEN s.pending = l.element_hash THEN 'retried' "
            "WHEN s.synced IS NULL THEN 'new' ELSE 'changed' END AS class "
            f"FROM {relation} AS l LEFT JOIN ({hashes}) AS s USING (row_key)"
        )

    def mark_pending_from(self, relation: str, window_end: datetime | None = None) -> None:
        """:meth:`mark_pending` for the rows of a relation in :attr:`workspace`."""
        if self.read_only or self._cursor is None:
            return
        self._write_in_place(
            relation, window_end,
            "pending_hash = excluded.pending_hash, window_end = excluded.window_end",
            pending=True,
        )

    def close(self) -> None:
        """Release the cursor or the staging rows."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None
        elif not self.read_only and self.warehouse.table_exists(STAGING_TABLE):
            self._clear_staging()

    # -- reading ----------------------------------------------------------------------------

    def lookup(self, rows: pa.Table) -> pa.Table:
        """The confirmed and pending hash of each row (nulls where the store has none).

        Args:
            rows: ``position`` (int64), ``row_key`` and ``element_hash`` (strings).

        Returns:
            ``position``, ``synced`` and ``pending``, one row per input row.
        """
        if not self._exists:
            nulls = pa.nulls(rows.num_rows, pa.string())
            return pa.table({"position": rows.column("position"), "synced": nulls,
                             "pending": nulls})
        return self._run(
            rows,
            "SELECT r.position, s.element_hash AS synced, s.pending_hash AS pending "
            "FROM {rows} AS r LEFT JOIN {table} AS s "
            f"ON s.row_key = r.row_key AND {self._scope_s}",
            result=True,
        )

    # -- writing ----------------------------------------------------------------------------

    def mark_pending(self, rows: pa.Table, window_end: datetime | None = None) -> None:
        """Record the hashes about to be sent (``row_key``, ``element_hash``, ``row_number``).

        They stay pending until :meth:`confirm`: a run that dies, or a body that fails, leaves
        them so the next run reports those rows as retried.
        """
        if self.read_only or not rows.num_rows:
            return
        self._upsert(
            rows, window_end,
            "pending_hash = excluded.pending_hash, window_end = excluded.window_end",
            pending=True,
        )

    def confirm(self, rows: pa.Table, push_id: str, window_end: datetime | None = None) -> None:
        """Make rows confirmed: MoEngage accepted the bodies carrying them.

        Within one push the occurrence with the highest ``row_number`` wins, whatever order
        the confirmations come in (bodies finish out of order).
        """
        if self.read_only or not rows.num_rows:
            return
        self._upsert(
            rows, window_end,
            "element_hash = excluded.element_hash, push_id = excluded.push_id, "
            "row_number = excluded.row_number, synced_at = excluded.synced_at, "
            "window_end = excluded.window_end, pending_hash = CASE "
            "WHEN t.pending_hash = excluded.element_hash THEN NULL ELSE t.pending_hash END",
            pending=False, push_id=push_id,
            condition=(
                "t.push_id IS NULL OR t.push_id <> excluded.push_id "
                "OR t.row_number <= excluded.row_number"
            ),
        )

    def prune(self, window_end_before: datetime) -> None:
        """Forget rows sent by windows that ended at or before a time (events)."""
        if self.read_only or not self._exists:
            return
        self.warehouse.execute(
            f"DELETE FROM {self.table} WHERE {self._scope} "
            f"AND window_end <= {timestamp(window_end_before)}"
        )

    def forget_keys(self, keys: list[str]) -> None:
        """Forget some rows (items mirror mode deleted): if they come back, they are new."""
        if self.read_only or not self._exists or not keys:
            return
        self._run(
            pa.table({"row_key": pa.array(keys, pa.string())}),
            "DELETE FROM {table} WHERE " + self._scope
            + " AND row_key IN (SELECT row_key FROM {rows} AS gone)",
        )

    def forget(self) -> None:
        """Forget every hash of this sync at this destination: its next push sends all."""
        if not self.read_only and self._exists:
            self.warehouse.execute(f"DELETE FROM {self.table} WHERE {self._scope}")

    def _upsert(
        self, rows: pa.Table, window_end: datetime | None, assignments: str, *,
        pending: bool, push_id: str | None = None, condition: str = "",
    ) -> None:
        if self._cursor is not None:
            view = f"moengage_rows_{self._token}"
            self._cursor.register(view, rows)
            try:
                self._write_in_place(
                    view, window_end, assignments, pending=pending, push_id=push_id,
                    condition=condition,
                )
            finally:
                self._cursor.unregister(view)
            return
        self._run(rows, self._upsert_sql(
            "{rows}", window_end, assignments, pending=pending, push_id=push_id,
            condition=condition,
        ))

    def _write_in_place(
        self, relation: str, window_end: datetime | None, assignments: str, *,
        pending: bool, push_id: str | None = None, condition: str = "",
    ) -> None:
        """Upsert the rows of a relation of :attr:`workspace` into a DuckDB store, in slices.

        Keys the store holds are updated (``UPDATE_ROWS`` at a time), the others inserted
        (``INSERT_ROWS`` at a time), so that the store's memory stays within its limit
        however many rows there are. The relation's rows are copied to a temporary table
        first (it spills), numbered, one per key.
        """
        assert self._cursor is not None
        cursor = self._cursor
        rows = f"moengage_rows_slices_{self._token}"
        missing = f"moengage_rows_missing_{self._token}"
        cursor.execute(
            f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT row_key, element_hash, row_number, "
            "row_number() OVER () AS slice_position FROM (SELECT row_key, element_hash, "
            "row_number, row_number() OVER (PARTITION BY row_key ORDER BY row_number DESC) AS "
            f"occurrence FROM {relation} AS src) AS r WHERE r.occurrence = 1"
        )
        try:
            total = int(cursor.sql(f"SELECT count(*) FROM {rows}").fetchall()[0][0])
            also = f" AND ({condition})" if condition else ""
            unmatched = 0
            for start in range(0, total, UPDATE_ROWS):
                part = numbered_slice(rows, start, UPDATE_ROWS)
                source = self._rows_sql(part, window_end, pending=pending, push_id=push_id)
                updated = cursor.execute(
                    f"UPDATE {self.table} AS t SET {assignments} FROM ({source}) AS excluded "
                    f"WHERE {self._scope_t} AND t.row_key = excluded.row_key{also}"
                ).fetchall()[0][0]
                unmatched += min(UPDATE_ROWS, total - start) - int(updated)
            if not unmatched:
                return
            # Keys the store lacks (or rows the condition kept out: they are found again).
            cursor.execute(
                f"CREATE OR REPLACE TEMP TABLE {missing} AS SELECT r.row_key, r.element_hash, "
                "r.row_number, row_number() OVER () AS slice_position "
                f"FROM {rows} AS r ANTI JOIN (SELECT row_key FROM {self.table} "
                f"WHERE {self._scope}) AS s USING (row_key)"
            )
            count = int(cursor.sql(f"SELECT count(*) FROM {missing}").fetchall()[0][0])
            for start in range(0, count, INSERT_ROWS):
                # A plain insert: the store lacked these keys (the table holds each key once).
                source = self._rows_sql(
                    numbered_slice(missing, start, INSERT_ROWS), window_end, pending=pending,
                    push_id=push_id,
                )
                cursor.execute(f"INSERT INTO {self.table} BY NAME {source}")
        finally:
            cursor.execute(f"DROP TABLE IF EXISTS {rows}")
            cursor.execute(f"DROP TABLE IF EXISTS {missing}")

    def _rows_sql(
        self, relation: str, window_end: datetime | None, *, pending: bool,
        push_id: str | None = None,
    ) -> str:
        """The store's columns for the rows of a relation, the last occurrence of each key."""
        now = timestamp(datetime.now(UTC))
        end = "NULL" if window_end is None else timestamp(window_end)
        push = "NULL" if push_id is None else quote_literal(push_id)
        if pending:
            values = (
                "NULL AS element_hash, r.element_hash AS pending_hash, NULL AS push_id, "
                f"NULL AS row_number, {end} AS window_end, NULL AS synced_at"
            )
        else:
            values = (
                f"r.element_hash AS element_hash, NULL AS pending_hash, {push} AS push_id, "
                f"r.row_number AS row_number, {end} AS window_end, {now} AS synced_at"
            )
        # One row per key: an upsert may not touch a row twice; the last occurrence wins.
        return (
            f"SELECT {self._values}, r.row_key AS row_key, {values} FROM ("
            "SELECT row_key, element_hash, row_number, row_number() OVER ("
            f"PARTITION BY row_key ORDER BY row_number DESC) AS occurrence FROM {relation} AS src"
            ") AS r WHERE r.occurrence = 1"
        )

    def _upsert_sql(
        self, relation: str, window_end: datetime | None, assignments: str, *,
        pending: bool, push_id: str | None = None, condition: str = "",
    ) -> str:
        rows = self._rows_sql(relation, window_end, pending=pending, push_id=push_id)
        where = f"WHERE {condition}" if condition else ""
        return (
            "INSERT INTO {table} AS t (sync_name, destination, entity, row_key, element_hash, "
            f"pending_hash, push_id, row_number, window_end, synced_at) {rows} "
            "ON CONFLICT (sync_name, destination, row_key) DO UPDATE SET "
            f"{assignments} {where}"
        )

    def _run(self, rows: pa.Table, sql: str, *, result: bool = False) -> pa.Table:
        if self._cursor is not None:
            view = f"moengage_rows_{self._token}"
            self._cursor.register(view, rows)
            try:
                text = fill(sql, view, self.table)
                if result:
                    return self._cursor.sql(text).to_arrow_table()
                self._cursor.execute(text)
                return pa.table({})
            finally:
                self._cursor.unregister(view)
        if self.read_only:
            # A dry run against PostgreSQL: the rows travel inside the statement.
            return self.warehouse.query(
                fill(sql, f"(SELECT * FROM {values_relation(rows)})", self.table)
            )
        self.warehouse.replace_rows(
            STAGING_TABLE, rows.append_column("token", pa.array([self._token] * rows.num_rows)),
            where={"token": self._token},
        )
        staged = self.warehouse.table_name(STAGING_TABLE).sql
        text = fill(
            sql, f"(SELECT * FROM {staged} WHERE token = {quote_literal(self._token)})",
            self.table,
        )
        if result:
            return self.warehouse.query(text)
        self.warehouse.execute(text)
        return pa.table({})

    def _clear_staging(self) -> None:
        self.warehouse.execute(
            f"DELETE FROM {self.warehouse.table_name(STAGING_TABLE).sql} "
            f"WHERE token = {quote_literal(self._token)}"
        )


def last_destination(
    warehouse: Warehouse, sync_name: str, table: str = SYNC_STATE_TABLE
) -> str | None:
    """The destination a sync most recently confirmed rows at (None if it never did)."""
    name = warehouse.table_name(table)
    if not warehouse.table_exists(name):
        return None
    found = warehouse.query(
        f"SELECT destination FROM {name.sql} WHERE sync_name = {quote_literal(sync_name)} "
        "AND synced_at IS NOT NULL ORDER BY synced_at DESC LIMIT 1"
    ).column(0).to_pylist()
    return str(found[0]) if found else None
