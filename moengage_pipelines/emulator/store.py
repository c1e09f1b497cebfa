"""The emulator's state in SQLite: users, events, devices, dropped elements, merges, deletions.

One connection guarded by a lock serves the server thread and inspection alike. A file
database survives restarts; ``:memory:`` serves tests. Writes of one request happen in one
transaction, rows inserted several to a statement (``_insert_rows``), so a 100 KB bulk body
costs a few dozen statements.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from moengage_pipelines.emulator.elements import (
    REASON_NO_USER,
    REASON_UPDATE_EXISTING,
    Drop,
    Parsed,
)

__all__ = ["IngestOutcome", "Store", "UserRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    workspace TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    moengage_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    attribute_types TEXT NOT NULL,
    platforms TEXT NOT NULL,
    has_email INTEGER NOT NULL DEFAULT 0,
    has_mobile INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (workspace, customer_id)
);
CREATE INDEX IF NOT EXISTS users_moengage_id ON users (workspace, moengage_id);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    device_id TEXT,
    action TEXT NOT NULL,
    platform TEXT,
    event_time REAL NOT NULL,
    day TEXT NOT NULL,
    document TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request_id TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS events_day ON events (workspace, day);
CREATE TABLE IF NOT EXISTS devices (
    workspace TEXT NOT NULL,
    device_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    attributes TEXT NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (workspace, device_id)
);
CREATE TABLE IF NOT EXISTS dropped (
    seq INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    request_id TEXT NOT NULL,
    element_index INTEGER NOT NULL,
    kind TEXT NOT NULL,
    customer_id TEXT,
    reason TEXT NOT NULL,
    element TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS merges (
    seq INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    merged_user TEXT NOT NULL,
    retained_user TEXT NOT NULL,
    request_id TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deletions (
    seq INTEGER PRIMARY KEY,
    workspace TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    moengage_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    received_at REAL NOT NULL
);
"""

_SELECT_USERS = """
    SELECT customer_id, moengage_id, attributes, attribute_types, platforms, created_at, updated_at
    FROM users WHERE workspace = ?"""
_UPSERT_USER = """
    INSERT OR REPLACE INTO users (workspace, customer_id, moengage_id, attributes, attribute_types,
        platforms, has_email, has_mobile, created_at, updated_at)
    VALUES (?,?,?,?,?,?,?,?,?,?)"""
_INSERT_EVENT = """
    INSERT INTO events (workspace, customer_id, device_id, action, platform, event_time, day,
        document, endpoint, request_id, received_at)
    VALUES (?,?,?,?,?,?,?,?,?,?,?)"""
_CREATE_EMPTY_USER = """
    INSERT OR IGNORE INTO users (workspace, customer_id, moengage_id, attributes, attribute_types,
        platforms, has_email, has_mobile, created_at, updated_at)
    VALUES (?,?,?,'{}','{}','{}',0,0,?,?)"""
_UPSERT_DEVICE = """
    INSERT OR REPLACE INTO devices (workspace, device_id, customer_id, attributes, updated_at)
    VALUES (?,?,?,?,?)"""
_INSERT_DROP = """
    INSERT INTO dropped (workspace, endpoint, request_id, element_index, kind, customer_id, reason,
        element, received_at)
    VALUES (?,?,?,?,?,?,?,?,?)"""
_INSERT_DELETION = """
    INSERT INTO deletions (workspace, customer_id, moengage_id, request_id, received_at)
    VALUES (?,?,?,?,?)"""
_INSERT_MERGE = """
    INSERT INTO merges (workspace, merged_user, retained_user, request_id, received_at)
    VALUES (?,?,?,?,?)"""
_SELECT_EVENTS = """
    SELECT customer_id, device_id, action, platform, event_time, day, document, endpoint,
        request_id, received_at
    FROM events WHERE workspace = ?"""

# Rows per multi-row INSERT: one statement of 16 rows costs clearly less than 16 executions of
# a one-row statement (binding and stepping are per statement), and larger groups gain little.
_ROWS_PER_INSERT = 16

EMAIL_KEYS = ("email", "u_em", "moe_email")
MOBILE_KEYS = ("mobile", "u_mb", "moe_mobile")
_CHUNK = 500


@dataclass(slots=True)
class UserRecord:
    """A user as stored."""

    customer_id: str
    moengage_id: str
    attributes: dict[str, Any]
    attribute_types: dict[str, str]
    platforms: dict[str, Any]
    created_at: float
    updated_at: float

    def to_dict(self) -> dict[str, Any]:
        """Plain representation."""
        return {
            "customer_id": self.customer_id,
            "moengage_id": self.moengage_id,
            "attributes": self.attributes,
            "attribute_types": self.attribute_types,
            "platforms": self.platforms,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


@dataclass(slots=True)
class IngestOutcome:
    """What a payload changed."""

    users_created: int = 0
    users_updated: int = 0
    events: int = 0
    devices: int = 0
    drops: list[Drop] = field(default_factory=list)


@functools.lru_cache(maxsize=32)
def _multi_row(sql: str) -> str:
    """``INSERT ... VALUES (?,...)`` repeated for ``_ROWS_PER_INSERT`` rows."""
    head, values = sql.rsplit("VALUES", 1)
    return f"{head}VALUES {','.join([values.strip()] * _ROWS_PER_INSERT)}"


def _insert_rows(db: sqlite3.Connection, sql: str, rows: Sequence[tuple]) -> None:
    """Run a one-row ``INSERT ... VALUES (?,...)`` for every row, in order.

    Rows go ``_ROWS_PER_INSERT`` to a statement; the rest one by one. Each row is inserted as
    the one-row statement would insert it (``OR IGNORE``/``OR REPLACE`` included).
    """
    whole = len(rows) - len(rows) % _ROWS_PER_INSERT
    if whole:
        grouped = _multi_row(sql)
        for start in range(0, whole, _ROWS_PER_INSERT):
            db.execute(grouped, [v for row in rows[start : start + _ROWS_PER_INSERT] for v in row])
    if whole < len(rows):
        db.executemany(sql, rows[whole:])


def _has_any(attributes: dict[str, Any], keys: tuple[str, ...]) -> int:
    return int(any(isinstance(attributes.get(k), str) and attributes[k].strip() for k in keys))


class _MoEngageIds:
    """MoEngage ids of users created in one workspace at one time.

    Shaped like MoEngage's (MongoDB ObjectIds: 24 hex digits, the creation second first),
    then the first 16 hex digits of the SHA-256 of the workspace, customer id and creation
    time: stable for the same data, new for a user created again later. Ids that grow with
    time also keep the id index cheap to extend. The parts shared by a request's users are
    encoded once (a bulk body can create hundreds).
    """

    def __init__(self, workspace: str, created_at: float) -> None:
        self._second = f"{int(created_at) & 0xFFFFFFFF:08x}"
        self._prefix = f"{workspace}\x00".encode()
        self._suffix = f"\x00{created_at!r}".encode()

    def __call__(self, customer_id: str) -> str:
        digest = hashlib.sha256(self._prefix + customer_id.encode() + self._suffix)
        return self._second + digest.hexdigest()[:16]


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
        self._db.executescript(_SCHEMA)
        # Tables added by other endpoint families (``add_tables``) that ``clear()`` empties.
        self._extra_cleared: list[str] = []

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

    # -- users ----------------------------------------------------------------------------

    def _load_users(
        self, db: sqlite3.Connection, workspace: str, ids: Iterable[str]
    ) -> dict[str, UserRecord]:
        wanted = list(dict.fromkeys(ids))
        found: dict[str, UserRecord] = {}
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(
                f"{_SELECT_USERS} AND customer_id IN ({marks})",
                (workspace, *chunk),
            )
            for cid, mid, attrs, types, platforms, created, updated in rows:
                found[cid] = UserRecord(
                    cid,
                    mid,
                    orjson.loads(attrs),
                    orjson.loads(types),
                    orjson.loads(platforms),
                    created,
                    updated,
                )
        return found

    def _save_users(
        self, db: sqlite3.Connection, workspace: str, users: Iterable[UserRecord]
    ) -> None:
        _insert_rows(
            db,
            _UPSERT_USER,
            [
                (
                    workspace,
                    u.customer_id,
                    u.moengage_id,
                    orjson.dumps(u.attributes).decode(),
                    orjson.dumps(u.attribute_types).decode(),
                    orjson.dumps(u.platforms).decode(),
                    _has_any(u.attributes, EMAIL_KEYS),
                    _has_any(u.attributes, MOBILE_KEYS),
                    u.created_at,
                    u.updated_at,
                )
                for u in users
            ],
        )

    def ingest(
        self, workspace: str, parsed: Parsed, *, endpoint: str, request_id: str, now: float
    ) -> IngestOutcome:
        """Apply validated customers, events and devices; record every drop.

        Customers are applied first, then events (an event for an unknown ``customer_id``
        creates the user), then devices (which need an existing user).
        """
        outcome = IngestOutcome(drops=list(parsed.drops))
        with self._transaction() as db:
            wanted = [c.customer_id for c in parsed.customers]
            wanted += [d.customer_id for d in parsed.devices]
            users = self._load_users(db, workspace, wanted) if wanted else {}
            new_id = _MoEngageIds(workspace, now)
            changed = self._apply_customers(parsed, users, outcome, now, new_id)
            if changed:
                self._save_users(db, workspace, changed.values())
            if parsed.events:
                # Users only seen in events are created empty; existing ones are left alone.
                before = db.total_changes
                _insert_rows(
                    db,
                    _CREATE_EMPTY_USER,
                    [
                        (workspace, cid, new_id(cid), now, now)
                        for cid in dict.fromkeys(e.customer_id for e in parsed.events)
                        if cid not in users
                    ],
                )
                outcome.users_created += db.total_changes - before
                _insert_rows(
                    db,
                    _INSERT_EVENT,
                    [
                        (
                            workspace,
                            e.customer_id,
                            e.device_id,
                            e.action,
                            e.platform,
                            e.current_time,
                            e.day,
                            orjson.dumps(e.document).decode(),
                            endpoint,
                            request_id,
                            now,
                        )
                        for e in parsed.events
                    ],
                )
            device_rows = []
            for device in parsed.devices:
                if device.customer_id not in users:
                    reason_element = {
                        "customer_id": device.customer_id,
                        "device_id": device.device_id,
                    }
                    outcome.drops.append(
                        Drop(
                            device.index,
                            "element",
                            REASON_NO_USER,
                            reason_element,
                            device.customer_id,
                        )
                    )
                    continue
                attributes = orjson.dumps(device.attributes).decode()
                device_rows.append(
                    (workspace, device.device_id, device.customer_id, attributes, now)
                )
            if device_rows:
                _insert_rows(db, _UPSERT_DEVICE, device_rows)
            if outcome.drops:
                self._save_drops(
                    db, workspace, outcome.drops, endpoint=endpoint, request_id=request_id, now=now
                )
        outcome.events = len(parsed.events)
        outcome.devices = len(device_rows)
        return outcome

    @staticmethod
    def _apply_customers(
        parsed: Parsed,
        users: dict[str, UserRecord],
        outcome: IngestOutcome,
        now: float,
        new_id: _MoEngageIds,
    ) -> dict[str, UserRecord]:
        changed: dict[str, UserRecord] = {}
        for op in parsed.customers:
            user = users.get(op.customer_id)
            if user is None:
                if op.update_existing_only:
                    element = {"customer_id": op.customer_id}
                    outcome.drops.append(
                        Drop(op.index, "element", REASON_UPDATE_EXISTING, element, op.customer_id)
                    )
                    continue
                user = UserRecord(op.customer_id, new_id(op.customer_id), {}, {}, {}, now, now)
                users[op.customer_id] = user
                outcome.users_created += 1
            else:
                outcome.users_updated += 1
            user.attributes.update(op.attributes)
            user.attribute_types.update(op.types)
            for name, values in op.add_to_arrays.items():
                current = user.attributes.get(name)
                current = list(current) if isinstance(current, list) else []
                current.extend(v for v in values if v not in current)
                user.attributes[name] = current
                user.attribute_types[name] = "array"
            for name, values in op.remove_from_arrays.items():
                current = user.attributes.get(name)
                if isinstance(current, list):
                    user.attributes[name] = [v for v in current if v not in values]
            for entry in op.platforms:
                if isinstance(entry.get("platform"), str):
                    user.platforms[entry["platform"]] = entry.get("active")
            user.updated_at = now
            changed[op.customer_id] = user
        return changed

    def _save_drops(
        self,
        db: sqlite3.Connection,
        workspace: str,
        drops: Iterable[Drop],
        *,
        endpoint: str,
        request_id: str,
        now: float,
    ) -> None:
        _insert_rows(
            db,
            _INSERT_DROP,
            [
                (
                    workspace,
                    endpoint,
                    request_id,
                    d.index,
                    d.kind,
                    d.customer_id,
                    d.reason,
                    orjson.dumps(d.element, option=orjson.OPT_NON_STR_KEYS).decode(),
                    now,
                )
                for d in drops
            ],
        )

    def record_drops(
        self, workspace: str, drops: list[Drop], *, endpoint: str, request_id: str, now: float
    ) -> None:
        """Record drops decided outside ``ingest`` (merge pairs, deletes)."""
        if drops:
            with self._transaction() as db:
                self._save_drops(
                    db, workspace, drops, endpoint=endpoint, request_id=request_id, now=now
                )

    def find_users(
        self, workspace: str, identifier_type: str, values: list[str]
    ) -> dict[str, UserRecord]:
        """Users by ``customer_id`` or MoEngage ``id``, keyed by the value asked for."""
        with self._lock:
            if identifier_type == "customer_id":
                return self._load_users(self._db, workspace, values)
            found: dict[str, UserRecord] = {}
            for value in values:
                row = self._db.execute(
                    "SELECT customer_id FROM users WHERE workspace = ? AND moengage_id = ?",
                    (workspace, value),
                ).fetchone()
                user = self._load_users(self._db, workspace, [row[0]]).get(row[0]) if row else None
                if user is not None:
                    found[value] = user
            return found

    def delete_user(self, workspace: str, user: UserRecord, *, request_id: str, now: float) -> None:
        """Delete a user (events stay, as MoEngage keeps them, but no longer reach a user)."""
        with self._transaction() as db:
            db.execute(
                "DELETE FROM users WHERE workspace = ? AND customer_id = ?",
                (workspace, user.customer_id),
            )
            db.execute(
                "DELETE FROM devices WHERE workspace = ? AND customer_id = ?",
                (workspace, user.customer_id),
            )
            db.execute(
                _INSERT_DELETION,
                (workspace, user.customer_id, user.moengage_id, request_id, now),
            )

    def merge_users(
        self, workspace: str, merged: str, retained: str, *, request_id: str, now: float
    ) -> str | None:
        """Merge one pair: the merged user's attributes, devices and events go to the retained one.

        Returns:
            None on success, or why the pair was skipped.
        """
        if merged == retained:
            return "merged_user and retained_user are the same"
        with self._transaction() as db:
            users = self._load_users(db, workspace, [merged, retained])
            if merged not in users:
                return "merged_user does not exist"
            if retained not in users:
                return "retained_user does not exist"
            source, target = users[merged], users[retained]
            # The retained user's own values win; the merged user fills the gaps.
            target.attributes = {**source.attributes, **target.attributes}
            target.attribute_types = {**source.attribute_types, **target.attribute_types}
            target.platforms = {**source.platforms, **target.platforms}
            target.updated_at = now
            self._save_users(db, workspace, [target])
            db.execute(
                "UPDATE events SET customer_id = ? "
                "WHERE workspace = ? AND customer_id = ? AND event_time >= ?",
                (retained, workspace, merged, now - 30 * 86_400),
            )
            db.execute(
                "UPDATE devices SET customer_id = ? WHERE workspace = ? AND customer_id = ?",
                (retained, workspace, merged),
            )
            db.execute(
                "DELETE FROM users WHERE workspace = ? AND customer_id = ?", (workspace, merged)
            )
            db.execute(
                _INSERT_MERGE,
                (workspace, merged, retained, request_id, now),
            )
        return None

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
            return self._load_users(self._db, workspace, ids)

    def count(self, table: str, workspace: str) -> int:
        """Rows of a table for a workspace."""
        if table not in ("users", "events", "devices", "dropped", "merges", "deletions"):
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
        sql = _SELECT_EVENTS
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
            ``has_*`` are 0 for events whose user no longer exists.
        """
        sql = """
            SELECT e.day, LOWER(COALESCE(e.platform, 'unknown')), e.customer_id, e.action, COUNT(*),
                   SUM(CASE WHEN json_type(e.document, '$.attributes.revenue')
                                 IN ('integer', 'real')
                            THEN json_extract(e.document, '$.attributes.revenue') ELSE 0 END),
                   COALESCE(u.has_email, 0), COALESCE(u.has_mobile, 0), u.customer_id IS NOT NULL
            FROM events e
            LEFT JOIN users u ON u.workspace = e.workspace AND u.customer_id = e.customer_id
            WHERE e.workspace = ? AND e.day BETWEEN ? AND ?
            GROUP BY e.day, LOWER(COALESCE(e.platform, 'unknown')), e.customer_id, e.action
        """
        with self._lock:
            return self._db.execute(sql, (workspace, first_day, last_day)).fetchall()

    def clear(self) -> None:
        """Delete all state."""
        with self._transaction() as db:
            for table in (
                "users",
                "events",
                "devices",
                "dropped",
                "merges",
                "deletions",
                *self._extra_cleared,
            ):
                db.execute(f"DELETE FROM {table}")
