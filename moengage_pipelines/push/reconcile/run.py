"""``reconcile_users``: sample the users a push sends, read them back, record what differs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from moengage_pipelines.errors import ConfigError
from moengage_pipelines.limits import GET_USER_MAX_USERS
from moengage_pipelines.push.mapping import EntityMapping, UserMapping, load_mapping
from moengage_pipelines.push.reconcile.compare import Mismatch, compare_user
from moengage_pipelines.push.reconcile.sample import SentUser, sample_sent_users
from moengage_pipelines.push.reconcile.table import RECONCILIATION_TABLE, ReconciliationWriter

if TYPE_CHECKING:
    from moengage_pipelines.sources import Source, TimeWindow
    from moengage_pipelines.warehouse import Warehouse

__all__ = ["ReconciliationReport", "UserLookupClient", "reconcile_users"]

logger = logging.getLogger(__name__)


class UserLookupClient(Protocol):
    """What reconciliation needs from ``MoEngageClient``: Get User."""

    def get_users(
        self, customer_ids: Sequence[str], *, fields: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Get User for at most 20 customer ids: ``{"users": [...], "users_not_found": [...]}``."""
        ...


@dataclass(slots=True)
class ReconciliationReport:
    """What one reconciliation compared and found.

    Attributes:
        run_id: Identifies the reconciliation in ``moengage_reconciliation``.
        sync_name: The push reconciled.
        users_sampled: Users drawn from what the push sends.
        users_found: Of those, users Get User returned.
        attributes_compared: Attribute values compared, over every user found.
        requests: Get User requests made (20 users each at most).
        mismatches: Every mismatch, users not found included.
        rows_recorded: Rows written to the reconciliation table (0 when none is kept).
        table: Where the mismatches were recorded, if anywhere.
    """

    run_id: str
    sync_name: str
    users_sampled: int = 0
    users_found: int = 0
    attributes_compared: int = 0
    requests: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    rows_recorded: int = 0
    table: str | None = None

    @property
    def users_not_found(self) -> int:
        """Sampled users Get User did not know."""
        return self.users_sampled - self.users_found

    @property
    def users_mismatched(self) -> int:
        """Sampled users with at least one mismatch (missing users included)."""
        return len({mismatch.customer_id for mismatch in self.mismatches})

    @property
    def ok(self) -> bool:
        """True when MoEngage holds every sampled user as sent."""
        return not self.mismatches

    def summary(self) -> str:
        """One line: users checked and what differed."""
        return (
            f"{self.users_sampled} users sampled, {self.users_found} found, "
            f"{self.attributes_compared} attributes compared: {len(self.mismatches)} "
            f"mismatches in {self.users_mismatched} users ({self.requests} Get User requests)"
        )

    def by_attribute(self) -> dict[str, int]:
        """Mismatches per attribute, most frequent first."""
        counts: dict[str, int] = {}
        for mismatch in self.mismatches:
            counts[mismatch.attribute] = counts.get(mismatch.attribute, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _users_mapping(mapping: EntityMapping | dict[str, Any] | str | Path) -> UserMapping:
    loaded = mapping if isinstance(mapping, EntityMapping) else load_mapping(mapping)
    if not isinstance(loaded, UserMapping):
        raise ConfigError(
            f"reconciliation reads users back with Get User; the mapping maps {loaded.entity}"
        )
    return loaded


def _found_users(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Get User's users by customer id (entries without one cannot be matched: skipped)."""
    found: dict[str, dict[str, Any]] = {}
    for entry in answer.get("users") or []:
        attributes = entry.get("user_attributes") if isinstance(entry, dict) else None
        if isinstance(attributes, dict) and isinstance(attributes.get("customer_id"), str):
            found[attributes["customer_id"]] = attributes
    return found


def _check(client: UserLookupClient, users: list[SentUser], report: ReconciliationReport) -> None:
    """Look ``users`` up in requests of 20 and compare each with what was sent."""
    for start in range(0, len(users), GET_USER_MAX_USERS):
        chunk = users[start : start + GET_USER_MAX_USERS]
        answer = client.get_users([user.customer_id for user in chunk])
        report.requests += 1
        found = _found_users(answer)
        for user in chunk:
            held = found.get(user.customer_id)
            if held is None:
                report.mismatches.append(
                    Mismatch(user.customer_id, "customer_id", "user_not_found", user.customer_id)
                )
                continue
            report.users_found += 1
            compared, mismatches = compare_user(user.customer_id, user.attributes, held)
            report.attributes_compared += compared
            report.mismatches.extend(mismatches)


def reconcile_users(
    source: Source,
    mapping: EntityMapping | dict[str, Any] | str | Path,
    client: UserLookupClient,
    *,
    sample_size: int,
    sync_name: str,
    results: Warehouse | None = None,
    table: str = RECONCILIATION_TABLE,
    partition: str | None = None,
    window: TimeWindow | None = None,
    seed: int | None = None,
    run_id: str | None = None,
    batch_rows: int = 65_536,
) -> ReconciliationReport:
    """Check that MoEngage holds a random sample of pushed users as they were sent.

    The sample is drawn from what a push of ``source`` with ``mapping`` sends (same rules,
    same serialization), so run it after the push, on the same source and window. Get User
    is called 20 users at a time; the client's ``get_user`` budget keeps to MoEngage's 1,000
    users a minute, so a sample of 5,000 takes about five minutes.

    Args:
        source: The push's source.
        mapping: The push's users mapping (a mapping, dict, YAML text or file).
        client: A ``MoEngageClient`` (or anything with its ``get_users``).
        sample_size: Users to check.
        sync_name: The push's name, stored with each mismatch.
        results: Warehouse receiving the mismatches in ``table``; None keeps none.
        table: The reconciliation table's name.
        partition: The push's partition, stored with each mismatch.
        window: The push's time window, if any.
        seed: Makes the sample repeatable.
        run_id: Identifies this reconciliation (a new UUID when None).
        batch_rows: Rows read at a time.

    Returns:
        The report; ``report.ok`` is True when nothing differs.

    Raises:
        ConfigError: The mapping is not a users mapping, or ``sample_size`` is below 1.
    """
    users_mapping = _users_mapping(mapping)
    if sample_size < 1:
        raise ConfigError(f"the reconciliation sample needs at least 1 user, got {sample_size}")
    report = ReconciliationReport(run_id=run_id or str(uuid.uuid4()), sync_name=sync_name)
    users = sample_sent_users(
        source, users_mapping, size=sample_size, seed=seed, window=window, batch_rows=batch_rows
    )
    report.users_sampled = len(users)
    _check(client, users, report)
    if results is not None:
        writer = ReconciliationWriter(results, table)
        report.rows_recorded = writer.write(
            report.mismatches, run_id=report.run_id, sync_name=sync_name, partition=partition
        )
        report.table = table
    # Counts only: the values are the users' data and stay in the table.
    logger.info("reconciled %s: %s", sync_name, report.summary())
    return report
