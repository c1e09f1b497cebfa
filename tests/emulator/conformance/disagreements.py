"""Documented disagreements between the OpenAPI schemas and the rest of MoEngage's documentation.

Where a schema disagrees with the reference's own examples or prose, the emulator follows the
examples and prose, and ``docs/emulator.md`` records the choice in its "Decisions" table under
the same name. A conformance case that meets one of these names it; the validation errors it
explains (and only those) are set aside, and the case is reported as skipped for that reason
once everything else about it has been checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TITLE_CASE_STATUS = "(Active|Scheduled|Paused|Sent|Stopped|Archived|Retired)"


@dataclass(frozen=True)
class Disagreement:
    """One documented disagreement and the validation errors it explains."""

    name: str
    summary: str
    pattern: re.Pattern[str]

    def explains(self, error: str) -> bool:
        return bool(self.pattern.search(error))


DISAGREEMENTS = {
    d.name: d
    for d in (
        Disagreement(
            "campaign-status-title-case",
            "campaigns search/meta answer statuses in title case ('Active'), as the reference's "
            "examples do (campaigns reference); the schemas' enums are upper case",
            re.compile(
                rf"^at \d+/(status|campaign_status): '{_TITLE_CASE_STATUS}' is not one of \["
            ),
        ),
        Disagreement(
            "meta-time-without-offset",
            "campaign meta times are UTC without an offset ('2024-11-28T12:18:00'), as the "
            "reference's examples show (campaigns reference); the schema says format date-time",
            re.compile(
                r"^at \d+/(campaign_start_time|reachability_details/last_updated_time): "
                r"'[0-9T:.-]+' is not a 'date-time'$"
            ),
        ),
        Disagreement(
            "transition-elements-enum",
            "the bulk-import schema puts enum [customer, event, device] on the elements array "
            "itself; elements are customer/event/device objects (data-overview, bulk import)",
            re.compile(r"^at elements: \[.* is not one of \['customer', 'event', 'device'\]$"),
        ),
        Disagreement(
            "export-identifier-type-id",
            "Get User takes identifier_type customer_id or id (the get-user page and the spec's "
            "own example) and answers users_not_found with the type as sent; the schema's enum "
            "says customer_id or moengage_id",
            re.compile(r"identifier_type: 'id' is not one of \['customer_id', 'moengage_id'\]$"),
        ),
    )
}


def unexplained(errors: list[str], names: tuple[str, ...]) -> tuple[list[str], set[str]]:
    """Split errors into those no named disagreement explains, and the names that explained any."""
    left: list[str] = []
    used: set[str] = set()
    for error in errors:
        found = [name for name in names if DISAGREEMENTS[name].explains(error)]
        if found:
            used.update(found)
        else:
            left.append(error)
    return left, used
