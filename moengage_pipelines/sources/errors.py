"""Errors raised by sources (a subclass of the warehouse errors: both are data access)."""

from __future__ import annotations

from moengage_pipelines.warehouse.errors import WarehouseError

__all__ = ["SourceError", "SourceNotFoundError", "first_line"]


class SourceError(WarehouseError):
    """A source is misconfigured or cannot be read (bad spec, bad time column, ...)."""


class SourceNotFoundError(SourceError, FileNotFoundError):
    """A file, folder or glob named by a source matches nothing."""


def first_line(text: str) -> str:
    """The first non-blank line of a driver's message (the rest is often a stack or a hint)."""
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[0] if lines else "no details"
