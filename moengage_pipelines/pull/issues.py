"""Parts of MoEngage's answers that could not be read as documented, as the pulls report them.

A pull never turns an unreadable part of an answer into numbers: it records a
:class:`ShapeIssue` naming where the part was and what was done about it, logs it, and
returns it in its report (where a check can fail on it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ShapeIssue", "issue_examples"]


@dataclass(frozen=True)
class ShapeIssue:
    """A part of a response that could not be read as documented.

    Attributes:
        path: Where, e.g. ``data/66e9.../0/platforms/android/locales``.
        reason: What was wrong and what was done about it.
    """

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def issue_examples(issues: Sequence[ShapeIssue | str], limit: int = 20) -> list[str]:
    """The first ``limit`` issues as text, for run metadata and CLI summaries."""
    return [str(issue) for issue in issues[:limit]]
