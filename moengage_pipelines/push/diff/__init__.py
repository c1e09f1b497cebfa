"""Diff sync: only the rows that changed since MoEngage last confirmed them are sent.

A stage between ``prepare`` and ``pack`` for users and catalog items. Each row's element (the
exact serialized bytes it would be sent as) is hashed; the state store keeps, per sync,
destination and row key, the hash MoEngage confirmed (``tables``). A row whose hash matches
is not sent; a new or changed row is, and its hash becomes confirmed only once the body
carrying it is delivered (``stage``). Rows of bodies that failed, were held or whose answer
was lost stay unconfirmed, so the next run sends them again and counts them as retried.
"""

from moengage_pipelines.push.diff.stage import DiffCounts, DiffSync
from moengage_pipelines.push.diff.store import RowHashes
from moengage_pipelines.push.diff.tables import SYNC_STATE_TABLE

__all__ = ["SYNC_STATE_TABLE", "DiffCounts", "DiffSync", "RowHashes"]
