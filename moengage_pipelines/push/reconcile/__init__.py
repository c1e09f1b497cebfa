"""Read-back reconciliation: a sample of pushed users fetched with Get User and compared.

MoEngage answers 200 to every bulk import, whatever it then keeps. After a users push,
``reconcile_users`` draws a random sample of the users the push sends (``sample``), looks
them up with Get User 20 at a time within its own rate budget, compares each attribute sent
with what MoEngage holds (``compare``) and records every mismatch in
``moengage_reconciliation`` (``table``).
"""

from moengage_pipelines.push.reconcile.compare import Mismatch, compare_user
from moengage_pipelines.push.reconcile.run import (
    ReconciliationReport,
    UserLookupClient,
    reconcile_users,
)
from moengage_pipelines.push.reconcile.sample import SentUser, sample_sent_users
from moengage_pipelines.push.reconcile.table import RECONCILIATION_TABLE, ReconciliationWriter

__all__ = [
    "RECONCILIATION_TABLE",
    "Mismatch",
    "ReconciliationReport",
    "ReconciliationWriter",
    "SentUser",
    "UserLookupClient",
    "compare_user",
    "reconcile_users",
    "sample_sent_users",
]
