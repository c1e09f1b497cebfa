"""Merges and deletions of users, each inside the caller's transaction.

Merge (MoEngage's Merge Users): the merged user's attributes fill the retained user's gaps,
its devices and its events of the last 30 days move to the retained user, then it is deleted.
MoEngage records the merge as events: ``MOE_USER_MERGE_EVENT`` on the merged user and
``MOE_USER_MERGED`` on the retained one.

Delete (Delete User): the user and its devices go; its events stay, as MoEngage keeps them,
but no longer reach a user. Deleting a blocked user lifts the block.
"""

from __future__ import annotations

import sqlite3

import orjson

from moengage_pipelines.emulator.element_rules import REASON_BLOCKED
from moengage_pipelines.emulator.store_schema import (
    INSERT_DELETION,
    INSERT_EVENT,
    INSERT_MERGE,
    UserRecord,
    load_users,
    save_users,
)
from moengage_pipelines.emulator.timeparse import utc_day

__all__ = [
    "MERGED_EVENT",
    "MERGE_ENDPOINT",
    "MERGE_EVENT",
    "MERGE_EVENT_WINDOW_SECONDS",
    "delete_user",
    "merge_pair",
]

MERGE_EVENT = "MOE_USER_MERGE_EVENT"  # added to the merged user
MERGED_EVENT = "MOE_USER_MERGED"  # added to the retained user
MERGE_ENDPOINT = "customer_merge"
# Only the merged user's events of the last 30 days move to the retained user.
MERGE_EVENT_WINDOW_SECONDS = 30 * 86_400


def merge_pair(
    db: sqlite3.Connection,
    workspace: str,
    merged: str,
    retained: str,
    *,
    request_id: str,
    now: float,
    blocked: set[str] | frozenset[str] = frozenset(),
) -> str | None:
    """Merge one pair.

    Returns:
        None on success, or why the pair was skipped.
    """
    if merged == retained:
        return "merged_user and retained_user are the same"
    users = load_users(db, workspace, [merged, retained])
    if merged not in users:
        return "merged_user does not exist"
    if retained not in users:
        return "retained_user does not exist"
    if merged in blocked or retained in blocked:
        return REASON_BLOCKED
    source, target = users[merged], users[retained]
    # The retained user's own values win; the merged user fills the gaps.
    target.attributes = {**source.attributes, **target.attributes}
    target.attribute_types = {**source.attribute_types, **target.attribute_types}
    target.platforms = {**source.platforms, **target.platforms}
    target.updated_at = now
    save_users(db, workspace, [target])
    db.execute(
        "UPDATE events SET customer_id = ? "
        "WHERE workspace = ? AND customer_id = ? AND event_time >= ?",
        (retained, workspace, merged, now - MERGE_EVENT_WINDOW_SECONDS),
    )
    db.execute(
        "UPDATE devices SET customer_id = ? WHERE workspace = ? AND customer_id = ?",
        (retained, workspace, merged),
    )
    db.execute("DELETE FROM users WHERE workspace = ? AND customer_id = ?", (workspace, merged))
    document = orjson.dumps(
        {"attributes": {"merged_user": merged, "retained_user": retained}}
    ).decode()
    day = utc_day(now)
    db.executemany(
        INSERT_EVENT,
        [
            (
                workspace,
                cid,
                None,
                action,
                None,
                now,
                day,
                document,
                MERGE_ENDPOINT,
                request_id,
                now,
            )
            for cid, action in ((merged, MERGE_EVENT), (retained, MERGED_EVENT))
        ],
    )
    db.execute(INSERT_MERGE, (workspace, merged, retained, request_id, now))
    return None


def delete_user(
    db: sqlite3.Connection, workspace: str, user: UserRecord, *, request_id: str, now: float
) -> None:
    """Delete a user and its devices (its events stay)."""
    for table in ("users", "devices", "blocked_users"):
        db.execute(
            f"DELETE FROM {table} WHERE workspace = ? AND customer_id = ?",
            (workspace, user.customer_id),
        )
    db.execute(INSERT_DELETION, (workspace, user.customer_id, user.moengage_id, request_id, now))
