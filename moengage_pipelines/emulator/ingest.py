"""Applying validated payloads to the store: users, events and devices, in one transaction.

Customers are applied first, then events (an event for an unknown ``customer_id`` creates the
user), then devices (which need an existing user). What depends on the stored state is decided
here, each refusal kept as a ``Drop`` with its reason:

* ``update_existing_only`` for a user that does not exist;
* create-only attributes (``publisher_name``, ``cr_t``...) sent for a user that exists;
* ``unset_attributes``, applied before the payload's own attributes;
* devices: a user has at most 1,000; the 1,001st is not stored and blocks the user, whose
  later customers, events and devices are dropped. A device reusing another device's
  ``push_id``, ``moe_gaid`` or ``idfv`` replaces it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from moengage_pipelines.emulator.element_rules import (
    REASON_BLOCKED,
    REASON_CREATE_ONLY,
    REASON_DEVICE_LIMIT,
    REASON_NO_USER,
    REASON_UPDATE_EXISTING,
    unset_matches,
)
from moengage_pipelines.emulator.parsed_elements import (
    CustomerOp,
    DeviceOp,
    Drop,
    EventRow,
    Parsed,
)
from moengage_pipelines.emulator.store_schema import (
    CREATE_EMPTY_USER,
    INSERT_EVENT,
    UPSERT_DEVICE,
    MoEngageIds,
    UserRecord,
    insert_rows,
    load_users,
    save_drops,
    save_users,
)
from moengage_pipelines.emulator.timeparse import attribute_type

__all__ = ["DEVICE_IDENTIFIERS", "MAX_DEVICES_PER_USER", "IngestOutcome", "ingest"]

MAX_DEVICES_PER_USER = 1_000
# Device attributes that identify one physical device: a new device reusing one replaces the
# device that had it.
DEVICE_IDENTIFIERS = ("push_id", "moe_gaid", "idfv")
_SAME_IDENTIFIER = (
    "SELECT device_id, customer_id FROM devices WHERE workspace = ? AND device_id != ? AND ("
    + " OR ".join(f"json_extract(attributes, '$.{name}') = ?" for name in DEVICE_IDENTIFIERS)
    + ")"
)


@dataclass(slots=True)
class IngestOutcome:
    """What a payload changed.

    Attributes:
        users_created: Users created (by customers or events).
        users_updated: Existing users a customer payload changed.
        events: Events stored.
        devices: Devices stored.
        drops: Everything accepted but not processed.
        blocked: Users this payload blocked.
    """

    users_created: int = 0
    users_updated: int = 0
    events: int = 0
    devices: int = 0
    drops: list[Drop] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)


def ingest(
    db: sqlite3.Connection,
    workspace: str,
    parsed: Parsed,
    *,
    endpoint: str,
    request_id: str,
    now: float,
    blocked: set[str] | frozenset[str] = frozenset(),
) -> IngestOutcome:
    """Apply validated customers, events and devices inside the caller's transaction.

    Args:
        db: The connection, inside a transaction.
        workspace: The workspace.
        parsed: What the payload contributes.
        endpoint: Endpoint name recorded with events and drops.
        request_id: Request id recorded with events and drops.
        now: Receive time.
        blocked: Users of the workspace already blocked (their data is dropped).
    """
    outcome = IngestOutcome(drops=list(parsed.drops))
    if blocked:
        _drop_blocked(parsed, blocked, outcome)
    wanted = [c.customer_id for c in parsed.customers]
    wanted += [d.customer_id for d in parsed.devices]
    users = load_users(db, workspace, wanted) if wanted else {}
    new_id = MoEngageIds(workspace, now)
    changed = _apply_customers(parsed, users, outcome, now, new_id)
    if changed:
        save_users(db, workspace, changed.values())
    if parsed.events:
        # Users only seen in events are created empty; existing ones are left alone.
        before = db.total_changes
        insert_rows(
            db,
            CREATE_EMPTY_USER,
            [
                (workspace, cid, new_id(cid), now, now)
                for cid in dict.fromkeys(e.customer_id for e in parsed.events)
                if cid not in users
            ],
        )
        outcome.users_created += db.total_changes - before
        insert_rows(
            db,
            INSERT_EVENT,
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
        outcome.events = len(parsed.events)
    if parsed.devices:
        _apply_devices(db, workspace, parsed.devices, users, outcome, now)
    if outcome.blocked:
        db.executemany(
            "INSERT OR REPLACE INTO blocked_users (workspace, customer_id, reason, blocked_at) "
            "VALUES (?,?,?,?)",
            [(workspace, cid, REASON_DEVICE_LIMIT, now) for cid in outcome.blocked],
        )
    if outcome.drops:
        save_drops(db, workspace, outcome.drops, endpoint=endpoint, request_id=request_id, now=now)
    return outcome


def _drop_blocked(
    parsed: Parsed, blocked: set[str] | frozenset[str], outcome: IngestOutcome
) -> None:
    """Move the customers, events and devices of blocked users to the drops."""
    for name in ("customers", "events", "devices"):
        kept = []
        for op in getattr(parsed, name):
            if op.customer_id in blocked:
                element = _summary(op)
                outcome.drops.append(
                    Drop(op.index, "element", REASON_BLOCKED, element, op.customer_id)
                )
            else:
                kept.append(op)
        setattr(parsed, name, kept)


def _summary(op: CustomerOp | EventRow | DeviceOp) -> dict[str, Any]:
    """What a drop of a blocked user's element records: its type, user and id or action."""
    if isinstance(op, DeviceOp):
        return {"type": "device", "customer_id": op.customer_id, "device_id": op.device_id}
    if isinstance(op, EventRow):
        return {"type": "event", "customer_id": op.customer_id, "action": op.action}
    return {"type": "customer", "customer_id": op.customer_id}


def _apply_customers(
    parsed: Parsed,
    users: dict[str, UserRecord],
    outcome: IngestOutcome,
    now: float,
    new_id: MoEngageIds,
) -> dict[str, UserRecord]:
    changed: dict[str, UserRecord] = {}
    for op in parsed.customers:
        user = users.get(op.customer_id)
        created = user is None
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
        for entry in op.unset:
            for name in [n for n in user.attributes if unset_matches(entry, n)]:
                del user.attributes[name]
                user.attribute_types.pop(name, None)
        user.attributes.update(op.attributes)
        user.attribute_types.update(op.types)
        for name, value in op.create_only.items():
            if created:
                user.attributes[name] = value
                user.attribute_types[name] = attribute_type(value)
            else:
                outcome.drops.append(
                    Drop(op.index, "attribute", REASON_CREATE_ONLY, {name: value}, op.customer_id)
                )
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


def _apply_devices(
    db: sqlite3.Connection,
    workspace: str,
    devices: list[DeviceOp],
    users: dict[str, UserRecord],
    outcome: IngestOutcome,
    now: float,
) -> None:
    """Store devices one by one (they are few), keeping every user within 1,000 devices."""
    owners = {d.customer_id for d in devices if d.customer_id in users}
    marks = ",".join("?" * len(owners))
    counts: dict[str, int] = dict(
        db.execute(
            "SELECT customer_id, COUNT(*) FROM devices "
            f"WHERE workspace = ? AND customer_id IN ({marks}) GROUP BY customer_id",
            (workspace, *owners),
        ).fetchall()
        if owners
        else ()
    )
    for device in devices:
        cid = device.customer_id
        if cid not in users:
            element = {"customer_id": cid, "device_id": device.device_id}
            outcome.drops.append(Drop(device.index, "element", REASON_NO_USER, element, cid))
            continue
        if cid in outcome.blocked:
            element = _summary(device)
            outcome.drops.append(Drop(device.index, "element", REASON_BLOCKED, element, cid))
            continue
        current = db.execute(
            "SELECT customer_id FROM devices WHERE workspace = ? AND device_id = ?",
            (workspace, device.device_id),
        ).fetchone()
        identifiers = [device.attributes.get(name) for name in DEVICE_IDENTIFIERS]
        replaced = (
            db.execute(_SAME_IDENTIFIER, (workspace, device.device_id, *identifiers)).fetchall()
            if any(value not in (None, "") for value in identifiers)
            else []
        )
        # The user's devices once this one is stored: replaced devices of theirs leave.
        total = counts.get(cid, 0) - sum(owner == cid for _, owner in replaced)
        if current is None or current[0] != cid:
            total += 1
        if total > MAX_DEVICES_PER_USER:
            outcome.blocked.append(cid)
            element = {"customer_id": cid, "device_id": device.device_id}
            outcome.drops.append(Drop(device.index, "element", REASON_DEVICE_LIMIT, element, cid))
            continue
        for replaced_id, owner in replaced:
            db.execute(
                "DELETE FROM devices WHERE workspace = ? AND device_id = ?",
                (workspace, replaced_id),
            )
            counts[owner] = counts.get(owner, 0) - 1
        if current is not None and current[0] != cid:
            counts[current[0]] = counts.get(current[0], 0) - 1
        counts[cid] = total
        db.execute(
            UPSERT_DEVICE,
            (workspace, device.device_id, cid, orjson.dumps(device.attributes).decode(), now),
        )
        outcome.devices += 1
