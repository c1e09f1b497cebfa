"""A budget store in a SQLite file: shared by every process and run on one machine.

Dagster's multiprocess executor runs each step in its own process, so a budget kept in memory
would let every step spend the whole workspace budget. A SQLite file in WAL mode, with each
check-and-record done inside ``BEGIN IMMEDIATE``, serialises the decision across processes.

Each acquisition is one row carrying its weight (a bulk-import body of 500 users is one row,
not 500), so the log stays small: about one row per request in the longest window.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from moengage_pipelines.api.ratebudget.store import BucketRequest, seconds_until_fits

__all__ = ["SQLiteBudgetStore", "default_budget_path"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS budget_entries ("
    " bucket TEXT NOT NULL, stamp REAL NOT NULL, weight INTEGER NOT NULL, token TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS budget_entries_bucket_stamp ON budget_entries (bucket, stamp)",
    "CREATE INDEX IF NOT EXISTS budget_entries_token ON budget_entries (token)",
    "CREATE TABLE IF NOT EXISTS budget_pauses (bucket TEXT PRIMARY KEY, until REAL NOT NULL)",
)
# Writers wait this long for another process's transaction (each one is sub-millisecond).
_BUSY_TIMEOUT_MS = 60_000


def default_budget_path() -> Path:
    """Where the machine-wide budget file lives unless configured.

    ``MOENGAGE_RATE_BUDGET_PATH`` wins; else ``$XDG_CACHE_HOME`` (or ``~/.cache``)
    ``/moengage-pipelines/rate-budget.sqlite``.
    """
    configured = os.environ.get("MOENGAGE_RATE_BUDGET_PATH")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "moengage-pipelines" / "rate-budget.sqlite"


class SQLiteBudgetStore:
    """Sliding logs in a SQLite file, safe across threads and processes.

    Args:
        path: The database file; created with its parent folder if missing. Defaults to
            :func:`default_budget_path`.

    The store can be pickled (only the path travels), so a budget can be handed to worker
    processes; each process opens its own connection.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_budget_path()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"SQLiteBudgetStore({str(self.path)!r})"

    def _connection(self) -> sqlite3.Connection:
        # A connection must not cross a fork; reopen in a child process.
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=_BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            _use_wal(conn)
            # The log is a pacing aid, not a record: losing the last entries on power loss is fine.
            conn.execute("PRAGMA synchronous = NORMAL")
            self._conn = conn
            self._pid = os.getpid()
            with self._transaction() as created:
                for statement in _SCHEMA:
                    created.execute(statement)
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn if self._conn is not None else self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def try_acquire(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> float:
        """Record every request if all fit now; else return the seconds to wait."""
        with self._lock:
            self._connection()
            with self._transaction() as conn:
                # Read the time only once every other process is locked out, so stamps are
                # in admission order across processes.
                now = clock()
                wait = 0.0
                for request in requests:
                    wait = max(wait, self._wait_for(conn, now, request))
                if wait <= 0:
                    conn.executemany(
                        "INSERT INTO budget_entries (bucket, stamp, weight, token)"
                        " VALUES (?, ?, ?, ?)",
                        [(request.key, now, request.cost, token) for request in requests],
                    )
            return max(wait, 0.0)

    @staticmethod
    def _wait_for(conn: sqlite3.Connection, now: float, request: BucketRequest) -> float:
        horizon = now - request.longest
        conn.execute(
            "DELETE FROM budget_entries WHERE bucket = ? AND stamp <= ?", (request.key, horizon)
        )
        row = conn.execute(
            "SELECT until FROM budget_pauses WHERE bucket = ?", (request.key,)
        ).fetchone()
        wait = row[0] - now if row is not None else 0.0
        for limit, seconds in request.windows:
            used = conn.execute(
                "SELECT COALESCE(SUM(weight), 0) FROM budget_entries"
                " WHERE bucket = ? AND stamp > ?",
                (request.key, now - seconds),
            ).fetchone()[0]
            if used + request.cost > limit:
                # Only now read the log itself, to find when enough of it expires (this
                # covers every window of the bucket).
                entries = conn.execute(
                    "SELECT stamp, weight FROM budget_entries WHERE bucket = ? AND stamp > ?"
                    " ORDER BY stamp",
                    (request.key, horizon),
                ).fetchall()
                return max(wait, seconds_until_fits(entries, now, request))
        return wait

    def settle(
        self, clock: Callable[[], float], requests: Sequence[BucketRequest], token: str
    ) -> None:
        """Re-stamp an acquisition's entries with the current time."""
        with self._lock:
            self._connection()
            with self._transaction() as conn:
                conn.execute(
                    "UPDATE budget_entries SET stamp = MAX(stamp, ?) WHERE token = ?",
                    (clock(), token),
                )

    def pause(self, keys: Iterable[str], until: float) -> None:
        """Admit nothing from these buckets before ``until``."""
        with self._lock:
            self._connection()
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT INTO budget_pauses (bucket, until) VALUES (?, ?)"
                    " ON CONFLICT (bucket) DO UPDATE SET until = MAX(until, excluded.until)",
                    [(key, until) for key in keys],
                )

    def used(self, key: str, now: float, seconds: float) -> int:
        """Units spent in the bucket in the ``seconds`` before ``now``."""
        with self._lock:
            row = (
                self._connection()
                .execute(
                    "SELECT COALESCE(SUM(weight), 0) FROM budget_entries"
                    " WHERE bucket = ? AND stamp > ?",
                    (key, now - seconds),
                )
                .fetchone()
            )
            return int(row[0])

    def close(self) -> None:
        """Close this process's connection."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to write-ahead logging, waiting while another process does the same.

    Processes opening a new file at once all try the switch; SQLite answers "database is
    locked" at once to all but one instead of waiting for the busy timeout.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
