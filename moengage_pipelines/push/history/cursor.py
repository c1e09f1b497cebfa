"""The window of a ``since_last_run`` push: from the last ``ok`` run's end, minus a lookback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from moengage_pipelines.errors import ConfigError
from moengage_pipelines.push.history.runs import SyncRuns
from moengage_pipelines.push.options import PushOptions

if TYPE_CHECKING:
    from moengage_pipelines.sources import TimeWindow

__all__ = ["DEFAULT_LOOKBACK", "EPOCH", "cursor_window"]

# Rows that land in the warehouse up to this late are still picked up by the next run.
DEFAULT_LOOKBACK = timedelta(hours=2)
# The first run of a sync reads everything up to now.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def cursor_window(
    history: SyncRuns | None,
    sync_name: str,
    destination: str | None,
    options: PushOptions,
    window: TimeWindow | None,
) -> TimeWindow:
    """``[last ok run's window end - lookback, now)``; ``[epoch, now)`` for a first run.

    Raises:
        ConfigError: Without the delivery state (nothing remembers the cursor), or with an
            explicit window as well.
    """
    from moengage_pipelines.sources import TimeWindow

    if window is not None:
        raise ConfigError("since_last_run computes the window itself; do not pass a window")
    if history is None:
        raise ConfigError("since_last_run needs the delivery state, which keeps the cursor")
    now = (options.now or datetime.now(UTC)).astimezone(UTC)
    lookback = options.lookback if options.lookback is not None else DEFAULT_LOOKBACK
    cursor = history.cursor(sync_name, destination)
    start = EPOCH if cursor is None else cursor.astimezone(UTC) - lookback
    start = min(start, now - timedelta(microseconds=1))
    return TimeWindow(start, now)
