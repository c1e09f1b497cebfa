"""Time-window flags (``--day``, ``--window-start``/``--window-end``) and their partition."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

__all__ = ["add_window_arguments", "partition_of", "window_of"]


def add_window_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--time-column``, ``--window-start``, ``--window-end`` and ``--day``."""
    parser.add_argument("--time-column", help="timestamp column the time window filters on")
    parser.add_argument("--window-start", help="window start, ISO 8601 (UTC if no zone)")
    parser.add_argument("--window-end", help="window end (exclusive), ISO 8601")
    parser.add_argument("--day", help="the UTC day YYYY-MM-DD as the window")


def window_of(args: argparse.Namespace) -> Any:
    """The ``TimeWindow`` the flags name, or None; a bad combination is a ``ConfigError``."""
    from moengage_pipelines.errors import ConfigError
    from moengage_pipelines.sources import TimeWindow

    if args.day and (args.window_start or args.window_end):
        raise ConfigError("give --day or --window-start/--window-end, not both")
    if bool(args.window_start) != bool(args.window_end):
        raise ConfigError("--window-start and --window-end go together")
    if not (args.day or args.window_start):
        return None
    if not args.time_column:
        raise ConfigError("a time window needs --time-column")
    try:
        if args.day:
            return TimeWindow.for_day(args.day)
        return TimeWindow(args.window_start, args.window_end)
    except ValueError as exc:
        raise ConfigError(f"bad time window: {exc}") from None


def partition_of(window: Any) -> str | None:
    """The partition of a CLI run over ``window``: the day, or ``start/end``, as text."""
    if window is None:
        return None
    start, end = window.start, window.end
    if end - start == dt.timedelta(days=1) and start.time() == dt.time(0):
        return start.date().isoformat()
    return f"{start.isoformat()}/{end.isoformat()}"
