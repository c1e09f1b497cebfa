"""Ledger: the delivery state, a stage between packing and sending.

It remembers, per destination, which bodies of a partition MoEngage accepted, so a re-run or
a retry sends only what is left. ``tracked`` gives a push its sender: a ``LedgerSender``
around the sender that talks to MoEngage. The tables are described in ``tables``; the resend
policies in ``policy``.
"""

from moengage_pipelines.push.ledger.policy import (
    RESEND_POLICIES,
    Decision,
    Delivery,
    ResendPolicy,
    check_resend,
    decide,
    default_resend,
)
from moengage_pipelines.push.ledger.sender import LedgerSender
from moengage_pipelines.push.ledger.session import destination_of, tracked
from moengage_pipelines.push.ledger.store import PushLedger
from moengage_pipelines.push.ledger.tables import LEDGER_SCHEMA, RUNS_SCHEMA

__all__ = [
    "LEDGER_SCHEMA",
    "RESEND_POLICIES",
    "RUNS_SCHEMA",
    "Decision",
    "Delivery",
    "LedgerSender",
    "PushLedger",
    "ResendPolicy",
    "check_resend",
    "decide",
    "default_resend",
    "destination_of",
    "tracked",
]
