"""The emulator's state in SQLite: users, events, devices, drops, merges, deletions.

One connection guarded by a lock serves the server thread and inspection alike. A file
database survives restarts; ``:memory:`` serves tests. Writes of one request happen in one
transaction. The tables and row conversions are in ``store_schema``; applying payloads is
``ingest``; merges and deletions are ``identity_changes``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import orjson

import moengage_pipelines.emulator.identity_changes as identity_changes
from moengage_pipelines.emulator.identity_changes import MERGE_ENDPOINT
from moengage_pipelines.emulator.ingest import IngestOutcome, ingest
from moengage_pipelines.emulator.parsed_elements import Drop, Parsed
from moengage_pipelines.emulator.store_schema import (
    DATA_TABLES,
    SCHEMA,
    SELECT_EVENTS,
    UserRecord,
    load_users,
    save_drops,
    save_users,
)
from moengage_pipelines.emulator.timeparse import attribute_type

__all__ = ["IngestOutcome", "Store", "UserRecord"]


class Store:
    """SQLite-backed state, safe to share between threads.

    Args:
        database: A file path, or ``:memory:``.
    """

    def __init__(self, database: str = ":memory:") -> None:
        self.database = database
        self._lock = threading.RLock()
        self._db = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        if database != ":memory:":
            # The emulator is a test oracle: durability on power loss is not worth the cost.
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=OFF")
        self._db.executescript(SCHEMA)
        # Tables added by other endpoint families (``add_tables``) that ``clear()`` empties.
        self._extra_cleared: list[str] = []
        # Blocked users per workspace, read once: every ingest consults them, and only this
        # store writes the table.
        self._blocked: dict[str, set[str]] = {}
        for workspace, customer_id in self._db.execute(
            "SELECT workspace, customer_id FROM blocked_users"
        ):
            self._blocked.setdefault(workspace, set()).add(customer_id)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- tables of other endpoint families ----------------------------------------------------

    def add_tables(self, schema: str, *, cleared: Iterable[str] = ()) -> None:
        """Create an endpoint family's own tables in this database (idempotent).

        Args:
            schema: ``CREATE TABLE IF NOT EXISTS ...`` statements.
            cleared: Tables holding received data, which ``clear()`` empties with the rest
                (tables holding configuration are left out).
        """
        with self._lock:
            self._db.executescript(schema)
            self._extra_cleared.extend(t for t in cleared if t not in self._extra_cleared)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transaction on the shared connection (for tables made with ``add_tables``)."""
        with self._transaction() as db:
            yield db

    def fetch(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        """Rows of a read-only query, under the store's lock."""
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    # -- writing ----------------------------------------------------------------------------

    def ingest(
        self, workspace: str, parsed: Parsed, *, endpoint: str, request_id: str, now: float
    ) -> IngestOutcome:
        """Apply validated customers, events and devices; record every drop (see ``ingest``)."""
        with self._transaction() as db:
            outcome = ingest(
                db,
                workspace,
                parsed,
                endpoint=endpoint,
                request_id=request_id,
                now=now,
                blocked=self._blocked.get(workspace, frozenset()),
            )
            if outcome.blocked:
                self._blocked.setdefault(workspace, set()).update(outcome.blocked)
        return outcome

    def record_drops(
        self, workspace: str, drops: list[Drop], *, endpoint: str, request_id: str, now: float
    ) -> None:
        """Record drops decided outside ``ingest`` (merge pairs, deletes)."""
        if drops:
            with self._transaction() as db:
                save_drops(db, workspace, drops, endpoint=endpoint, request_id=request_id, now=now)

    def find_users(
        self, workspace: str, identifier_type: str, values: list[str]
    ) -> dict[str, UserRecord]:
        """Users by ``customer_id`` or MoEngage ``id``, keyed by the value asked for."""
        with self._lock:
            if identifier_type == "customer_id":
                return load_users(self._db, workspace, values)
            found: dict[str, UserRecord] = {}
            for value in values:
                row = self._db.execute(
                    "SELECT customer_id FROM users WHERE workspace = ? AND moengage_id = ?",
                    (workspace, value),
                ).fetchone()
                user = load_users(self._db, workspace, [row[0]]).get(row[0]) if row else None
                if user is not None:
                    found[value] = user
            return found

    def set_user_attributes(
        self, workspace: str, customer_id: str, attributes: dict[str, Any], *, now: float
    ) -> UserRecord | None:
        """Change a user's attributes from outside MoEngage's APIs (a test's doing).

        A None value removes the attribute. Types follow the values, as on ingest.

        Returns:
            The user as stored now, or None when there is no such user.
        """
        with self._transaction() as db:
            user = load_users(db, workspace, [customer_id]).get(customer_id)
            if user is None:
                return None
            for name, value in attributes.items():
                if value is None:
                    user.attributes.pop(name, None)
                    user.attribute_types.pop(name, None)
                else:
                    user.attributes[name] = value
                    user.attribute_types[name] = attribute_type(value)
            user.updated_at = now
            save_users(db, workspace, [user])
            return user

    def delete_user(self, workspace: str, user: UserRecord, *, request_id: str, now: float) -> None:
        """Delete a user (events stay, as MoEngage keeps them, but no longer reach a user)."""
        with self._transaction() as db:
            identity_changes.delete_user(db, workspace, user, request_id=request_id, now=now)
            self._blocked.get(workspace, set()).discard(user.customer_id)

    def merge_users(
        self, workspace: str, merged: str, retained: str, *, request_id: str, now: float
    ) -> str | None:
        """Merge one pair (see ``identity_changes.merge_pair``).

        Returns:
            None on success, or why the pair was skipped.
        """
        with self._transaction() as db:
            return identity_changes.merge_pair(
                db,
                workspace,
                merged,
                retained,
                request_id=request_id,
                now=now,
                blocked=self._blocked.get(workspace, frozenset()),
            )

    def blocked_users(self, workspace: str) -> set[str]:
        """Users blocked for having more than 1,000 devices."""
        with self._lock:
            return set(self._blocked.get(workspace, ()))

    # -- reading ----------------------------------------------------------------------------

    def users(self, workspace: str) -> dict[str, UserRecord]:
        """Every user of a workspace."""
        with self._lock:
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT customer_id FROM users WHERE workspace = ?", (workspace,)
                )
            ]
            return load_users(self._db, workspace, ids)

    def count(self, table: str, workspace: str) -> int:
        """Rows of a table for a workspace."""
        if table not in DATA_TABLES:
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            return self._db.execute(
                f"SELECT COUNT(*) FROM {table} WHERE workspace = ?", (workspace,)
            ).fetchone()[0]

    def events(
        self,
        workspace: str,
        *,
        customer_id: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Accepted events (one per action) in arrival order."""
        sql = SELECT_EVENTS
        params: list[Any] = [workspace]
        if customer_id is not None:
            sql += " AND customer_id = ?"
            params.append(customer_id)
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        result = []
        for (
            cid,
            device_id,
            action,
            platform,
            event_time,
            day,
            raw,
            endpoint,
            request_id,
            received,
        ) in rows:
            document = orjson.loads(raw)
            document.pop("action", None)
            document.pop("platform", None)
            result.append(
                {
                    **document,
                    "customer_id": cid,
                    "device_id": device_id,
                    "action": action,
                    "platform": platform,
                    "attributes": document.get("attributes", {}),
                    "time": event_time,
                    "day": day,
                    "endpoint": endpoint,
                    "request_id": request_id,
                    "received_at": received,
                }
            )
        return result

    def devices(self, workspace: str) -> dict[str, dict[str, Any]]:
        """Devices by device id."""
        with self._lock:
            rows = self._db.execute(
                "SELECT device_id, customer_id, attributes FROM devices WHERE workspace = ?",
                (workspace,),
            ).fetchall()
        return {d: {"customer_id": c, "attributes": orjson.loads(a)} for d, c, a in rows}

    def dropped(self, workspace: str) -> list[dict[str, Any]]:
        """Everything accepted but not processed, with reasons, in arrival order."""
        with self._lock:
            rows = self._db.execute(
                "SELECT endpoint, request_id, element_index, kind, customer_id, reason, element "
                "FROM dropped "
                "WHERE workspace = ? ORDER BY seq",
                (workspace,),
            ).fetchall()
        return [
            {
                "endpoint": endpoint,
                "request_id": request_id,
                "index": index,
                "kind": kind,
                "customer_id": cid,
                "reason": reason,
                "element": orjson.loads(element),
            }
            for endpoint, request_id, index, kind, cid, reason, element in rows
        ]

    def merges(self, workspace: str) -> list[dict[str, str]]:
        """Applied merges."""
        with self._lock:
            rows = self._db.execute(
                "SELECT merged_user, retained_user FROM merges WHERE workspace = ? ORDER BY seq",
                (workspace,),
            ).fetchall()
        return [{"merged_user": m, "retained_user": r} for m, r in rows]

    def deletions(self, workspace: str) -> list[dict[str, str]]:
        """Applied deletions."""
        with self._lock:
            rows = self._db.execute(
                "SELECT customer_id, moengage_id FROM deletions WHERE workspace = ? ORDER BY seq",
                (workspace,),
            ).fetchall()
        return [{"customer_id": c, "moengage_id": m} for c, m in rows]

    def activity(self, workspace: str, first_day: str, last_day: str) -> list[tuple]:
        """Per (day, platform, customer) event counts with the user's reachability flags.

        Returns:
            Rows ``(day, platform, customer_id, action, events, revenue, has_email, has_mobile)``;
            ``has_*`` are 0 for events whose user no longer exists. The events MoEngage adds
            itself on a merge are no activity.
        """
        sql = """
            SELECT e.day, LOWER(COALESCE(e.platform, 'unknown')), e.customer_id, e.action, COUNT(*),
                   SUM(CASE WHEN json_type(e.document, '$.attributes.revenue')
                                 IN ('integer', 'real')
                            THEN json_extract(e.document, '$.attributes.revenue') ELSE 0 END),
                   COALESCE(u.has_email, 0), COALESCE(u.has_mobile, 0), u.customer_id IS NOT NULL
            FROM events e
            LEFT JOIN users u ON u.workspace = e.workspace AND u.customer_id = e.customer_id
            WHERE e.workspace = ? AND e.day BETWEEN ? AND ? AND e.endpoint != ?
            GROUP BY e.day, LOWER(COALESCE(e.platform, 'unknown')), e.customer_id, e.action
        """
        with self._lock:
            return self._db.execute(
                sql, (workspace, first_day, last_day, MERGE_ENDPOINT)
            ).fetchall()

    def clear(self) -> None:
        """Delete all state."""
        with self._transaction() as db:
            for table in (*DATA_TABLES, *self._extra_cleared):
                db.execute(f"DELETE FROM {table}")
            self._blocked.clear()
