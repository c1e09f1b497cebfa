"""Estimated reach of a scheduled campaign, computed once per UTC day as MoEngage does.

MoEngage calculates reachability once a day and serves the cached value for 24 hours. The
emulator computes it from the users it holds at the first request of a UTC day (emulator
clock) and answers that value, with its computation time, for the rest of the day:

* PUSH: users with an event or a device on one of the campaign's platforms;
* EMAIL: users with a non-empty ``email``/``u_em``/``moe_email``;
* SMS: users with a non-empty ``mobile``/``u_mb``/``moe_mobile``.

Only users that still exist count. The cache is received-data state: ``reset()`` empties it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from moengage_pipelines.emulator.campaign_catalog import Campaign
from moengage_pipelines.emulator.store import Store

__all__ = ["Reachability", "install", "reachability"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaign_reachability (
    workspace TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    computed_at REAL NOT NULL,
    PRIMARY KEY (workspace, campaign_id, day)
);
"""

Reachability = dict[str, int | str]


def install(store: Store) -> None:
    """Create the cache table (once, when the endpoints are registered)."""
    store.add_tables(_SCHEMA, cleared=("campaign_reachability",))


def _count(store: Store, workspace: str, campaign: Campaign) -> int:
    if campaign.channel == "PUSH":
        platforms = [p.lower() for p in campaign.platforms] or ["-"]
        marks = ",".join("?" * len(platforms))
        sql = f"""
            SELECT COUNT(*) FROM (
                SELECT customer_id FROM events
                WHERE workspace = ? AND LOWER(platform) IN ({marks})
                UNION
                SELECT customer_id FROM devices
                WHERE workspace = ? AND LOWER(json_extract(attributes, '$.platform')) IN ({marks})
            ) reached
            WHERE customer_id IN (SELECT customer_id FROM users WHERE workspace = ?)
        """
        params = (workspace, *platforms, workspace, *platforms, workspace)
        return store.fetch(sql, params)[0][0]
    flag = "has_email" if campaign.channel == "EMAIL" else "has_mobile"
    return store.fetch(
        f"SELECT COUNT(*) FROM users WHERE workspace = ? AND {flag} = 1", (workspace,)
    )[0][0]


def reachability(store: Store, workspace: str, campaign: Campaign, now: float) -> Reachability:
    """``{"count", "last_updated_time"}`` of a campaign for the UTC day of ``now``."""
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    key = (workspace, campaign.campaign_id, day)
    select = (
        "SELECT count, computed_at FROM campaign_reachability "
        "WHERE workspace = ? AND campaign_id = ? AND day = ?"
    )
    rows = store.fetch(select, key)
    if not rows:
        counted = _count(store, workspace, campaign)
        with store.transaction() as db:
            # A concurrent first request may have stored the day's value already: keep it.
            db.execute(
                "INSERT OR IGNORE INTO campaign_reachability "
                "(workspace, campaign_id, day, count, computed_at) VALUES (?,?,?,?,?)",
                (*key, counted, now),
            )
        rows = store.fetch(select, key)
    count, computed_at = rows[0]
    moment = datetime.fromtimestamp(computed_at, UTC).replace(tzinfo=None)
    return {"count": count, "last_updated_time": moment.isoformat(timespec="microseconds")}
