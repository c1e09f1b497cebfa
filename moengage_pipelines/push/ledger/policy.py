"""Resend policies: what to do with a body the delivery state already knows. Pure functions."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

__all__ = [
    "RESEND_POLICIES",
    "Decision",
    "Delivery",
    "ResendPolicy",
    "check_resend",
    "decide",
    "default_resend",
]

ResendPolicy = Literal["ambiguous", "never", "always"]
RESEND_POLICIES: tuple[str, ...] = ("ambiguous", "never", "always")


class Delivery(StrEnum):
    """What the delivery state knows of a body from earlier pushes.

    * ``sent``: MoEngage accepted it.
    * ``ambiguous``: it went out and its answer was lost (or the process died waiting for
      it): MoEngage may have applied it.
    """

    SENT = "sent"
    AMBIGUOUS = "ambiguous"


class Decision(StrEnum):
    """What to do with a body now."""

    SEND = "send"
    SKIP = "skip"
    HOLD = "hold"


def default_resend(entity: str) -> ResendPolicy:
    """The resend policy when none is given: at least once (``ambiguous``), for every entity.

    Users and catalog items are upserts, so a resend changes nothing. Events are not
    de-duplicated by MoEngage, so a resent body whose first answer was lost arrives twice;
    losing it instead would be silent, while a duplicate is bounded by the bodies whose
    answers were lost. ``never`` (at most once) stays available per push.
    """
    del entity  # the same for every entity; kept so a policy per entity stays possible
    return "ambiguous"


def check_resend(resend: str) -> ResendPolicy:
    """Return ``resend`` if it names a policy.

    Raises:
        ValueError: If it does not.
    """
    if resend not in RESEND_POLICIES:
        raise ValueError(f"resend must be one of {', '.join(RESEND_POLICIES)}, not {resend!r}")
    return resend  # type: ignore[return-value]


def decide(policy: ResendPolicy, known: Delivery | None) -> Decision:
    """Send, skip (delivered before) or hold back (maybe applied before, under ``never``).

    * ``never``: at most once. A body that may have been applied is held back.
    * ``ambiguous``: at least once. Such a body is sent again.
    * ``always``: every body is sent, delivered ones too (a forced re-push).
    """
    if policy == "always" or known is None:
        return Decision.SEND
    if known is Delivery.SENT:
        return Decision.SKIP
    return Decision.HOLD if policy == "never" else Decision.SEND
