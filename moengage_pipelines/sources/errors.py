"""Errors raised by sources (a subclass of the warehouse errors: both are data access)."""

from __future__ import annotations

from moengage_pipelines.warehouse.errors import WarehouseError

__all__ = ["SourceError", "SourceNotFoundError"]


class SourceError(WarehouseError):
    """A source is misconfigured or cannot be read (bad spec, bad time column, ...)."""


class SourceNotFoundError(SourceError, FileNotFoundError):
    """A file, folder or glob named by a source matches nothing."""
