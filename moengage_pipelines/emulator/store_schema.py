"""The tables of the emulator's SQLite state and how rows are read from and written to them.

Shared by the store (``store``), the ingestion of payloads (``ingest``) and merges and
deletions (``identity_changes``). Rows are inserted several to a statement (``insert_rows``):
one statement of 16 rows costs clearly less than 16 executions of a one-row statement.
"""

from __future__ import annotations

import functools
import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from moengage_pipelines.emulator.parsed_elements import Drop

__all__ = [
    "CREATE_EMPTY_USER",
    "DATA_TABLES",
    "EMAIL_KEYS",
    "INSERT_DELETION",
    "INSERT_EVENT",
    "INSERT_MERGE",
    "MOBILE_KEYS",
    "SCHEMA",
    "SELECT_EVENTS",
    "UPSERT_DEVICE",
    "MoEngageIds",
    "UserRecord",
    "insert_rows",
    "load_users",
    "save_drops",
    "save_users",
]

SCHEMA = """
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
CREATE INDEX IF NOT EXISTS devices_customer ON devices (workspace, customer_id);
CREATE INDEX IF NOT EXISTS devices_push_id
    ON devices (workspace, json_extract(attributes, '$.push_id'));
CREATE INDEX IF NOT EXISTS devices_gaid
    ON devices (workspace, json_extract(attributes, '$.moe_gaid'));
CREATE INDEX IF NOT EXISTS devices_idfv
    ON devices (workspace, json_extract(attributes, '$.idfv'));
CREATE TABLE IF NOT EXISTS blocked_users (
    workspace TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    blocked_at REAL NOT NULL,
    PRIMARY KEY (workspace, customer_id)
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
# Tables holding received data (what ``reset`` forgets), each with a ``workspace`` column.
DATA_TABLES = (
    "users",
    "events",
    "devices",
    "blocked_users",
    "dropped",
    "merges",
    "deletions",
)

_SELECT_USERS = """
    SELECT customer_id, moengage_id, attributes, attribute_types, platforms, created_at, updated_at
    FROM users WHERE workspace = ?"""
_UPSERT_USER = """
    INSERT OR REPLACE INTO users (workspace, customer_id, moengage_id, attributes, attribute_types,
        platforms, has_email, has_mobile, created_at, updated_at)
    VALUES (?,?,?,?,?,?,?,?,?,?)"""
INSERT_EVENT = """
    INSERT INTO events (workspace, customer_id, device_id, action, platform, event_time, day,
        document, endpoint, request_id, received_at)
    VALUES (?,?,?,?,?,?,?,?,?,?,?)"""
CREATE_EMPTY_USER = """
    INSERT OR IGNORE INTO users (workspace, customer_id, moengage_id, attributes, attribute_types,
        platforms, has_email, has_mobile, created_at, updated_at)
    VALUES (?,?,?,'{}','{}','{}',0,0,?,?)"""
UPSERT_DEVICE = """
    INSERT OR REPLACE INTO devices (workspace, device_id, customer_id, attributes, updated_at)
    VALUES (?,?,?,?,?)"""
_INSERT_DROP = """
    INSERT INTO dropped (workspace, endpoint, request_id, element_index, kind, customer_id, reason,
        element, received_at)
    VALUES (?,?,?,?,?,?,?,?,?)"""
INSERT_DELETION = """
    INSERT INTO deletions (workspace, customer_id, moengage_id, request_id, received_at)
    VALUES (?,?,?,?,?)"""
INSERT_MERGE = """
    INSERT INTO merges (workspace, merged_user, retained_user, request_id, received_at)
    VALUES (?,?,?,?,?)"""
SELECT_EVENTS = """
    SELECT customer_id, device_id, action, platform, event_time, day, document, endpoint,
        request_id, received_at
    FROM events WHERE workspace = ?"""

_ROWS_PER_INSERT = 16
_CHUNK = 500

EMAIL_KEYS = ("email", "u_em", "moe_email")
MOBILE_KEYS = ("mobile", "u_mb", "moe_mobile")


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


@functools.lru_cache(maxsize=32)
def _multi_row(sql: str) -> str:
    """``INSERT ... VALUES (?,...)`` repeated for ``_ROWS_PER_INSERT`` rows."""
    head, values = sql.rsplit("VALUES", 1)
    return f"{head}VALUES {','.join([values.strip()] * _ROWS_PER_INSERT)}"


def insert_rows(db: sqlite3.Connection, sql: str, rows: Sequence[tuple]) -> None:
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


class MoEngageIds:
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
        """The MoEngage id of a user created now."""
        digest = hashlib.sha256(self._prefix + customer_id.encode() + self._suffix)
        return self._second + digest.hexdigest()[:16]


def load_users(db: sqlite3.Connection, workspace: str, ids: Iterable[str]) -> dict[str, UserRecord]:
    """Users by ``customer_id`` (absent ones left out)."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, UserRecord] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        marks = ",".join("?" * len(chunk))
        rows = db.execute(f"{_SELECT_USERS} AND customer_id IN ({marks})", (workspace, *chunk))
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


def save_users(db: sqlite3.Connection, workspace: str, users: Iterable[UserRecord]) -> None:
    """Insert or replace users."""
    insert_rows(
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


def save_drops(
    db: sqlite3.Connection,
    workspace: str,
    drops: Iterable[Drop],
    *,
    endpoint: str,
    request_id: str,
    now: float,
) -> None:
    """Record what was accepted but not processed, with the reasons."""
    insert_rows(
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
