"""Campaign reports "configured in the dashboard": names, schedules and generation dates.

MoEngage builds report files from definitions made in its dashboard (Campaigns → Export →
report builder → "Send report to: REST API"); the API only downloads the generated files.
The emulator keeps such definitions per workspace in its database. They are configuration,
not received data, so ``reset()`` keeps them (like fault rules). Define them with
``ReportBook(emulator.store, workspace).define(...)``, ``POST /_emulator/reports``,
``EmulatorSettings.reports`` (which ``EmulatorSettings.from_env`` fills from the
``MOENGAGE_EMULATOR_REPORTS`` variable: a JSON list of definitions, or ``@path`` to a file), or
the CLI's ``--reports``.

A definition generates a file on its first generation date and, when periodic, every day,
week (7 days) or month (same day of the month, the last day when shorter) after it, never
after the emulator's current UTC day. The file of generation day ``G`` can be downloaded from
``G`` 00:00 UTC until ``G + 7 days`` 00:00 UTC, and covers the ``range_days`` days before
``G``.
"""

from __future__ import annotations

import calendar
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import orjson

from moengage_pipelines import limits
from moengage_pipelines.emulator.store import Store
from moengage_pipelines.errors import ConfigError

__all__ = [
    "CHANNELS",
    "ENV_REPORTS",
    "MAX_RANGE_DAYS",
    "SCHEDULES",
    "ReportBook",
    "ReportDefinition",
    "ReportFile",
    "file_stem",
    "parse_filename",
    "parse_reports",
    "reports_from_env",
    "utc_day",
]

ENV_REPORTS = "MOENGAGE_EMULATOR_REPORTS"
SCHEDULES = ("one_time", "daily", "weekly", "monthly")
CHANNELS = ("PUSH", "EMAIL", "SMS")
MAX_RANGE_DAYS = 90
_DEFAULT_RANGE = {"one_time": 7, "daily": 1, "weekly": 7, "monthly": 30}
_FILENAME = re.compile(r"^(?P<stem>.+)_(?P<day>\d{8})\.zip$")
_LISTED_FILES = 31

Schedule = Literal["one_time", "daily", "weekly", "monthly"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS report_definitions (
    workspace TEXT NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (workspace, name)
);
"""


def utc_day(epoch: float) -> date:
    """The UTC calendar day of an epoch time."""
    return datetime.fromtimestamp(epoch, UTC).date()


def file_stem(name: str) -> str:
    """A report name as it appears in file names: spaces become ``_``."""
    return name.replace(" ", "_")


def parse_filename(filename: str) -> tuple[str, date] | None:
    """``Report_-_test_20210217.zip`` → ``("Report_-_test", date(2021, 2, 17))``, or None."""
    found = _FILENAME.match(filename)
    if found is None:
        return None
    try:
        day = datetime.strptime(found["day"], "%Y%m%d").date()
    except ValueError:
        return None
    return found["stem"], day


@dataclass(frozen=True)
class ReportFile:
    """One generated (or expired) file of a definition."""

    filename: str
    generated_on: date
    first_day: date
    last_day: date
    expires_at: datetime

    def expired(self, now: float) -> bool:
        """Whether the file is older than the 7 days MoEngage keeps it."""
        return now >= self.expires_at.timestamp()

    def to_dict(self, now: float) -> dict[str, Any]:
        """Plain representation (inspection API)."""
        return {
            "filename": self.filename,
            "generated_on": self.generated_on.isoformat(),
            "data_from": self.first_day.isoformat(),
            "data_to": self.last_day.isoformat(),
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
            "expired": self.expired(now),
        }


@dataclass(frozen=True)
class ReportDefinition:
    """A report as configured in the dashboard.

    Attributes:
        name: Report name (unique per workspace); file names replace its spaces with ``_``.
        generated_on: The (first) generation day, UTC.
        schedule: ``one_time``, ``daily``, ``weekly`` or ``monthly``.
        channels: Channels reported, one CSV each (``PUSH``, ``EMAIL``, ``SMS``).
        range_days: Days of data before each generation day (1..90); defaults by schedule:
            one_time 7, daily 1, weekly 7, monthly 30.
        workspace: Workspace owning it (None: the emulator's main workspace).
    """

    name: str
    generated_on: date
    schedule: Schedule = "one_time"
    channels: tuple[str, ...] = CHANNELS
    range_days: int | None = None
    workspace: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError("a report needs a non-empty name")
        if "/" in self.name or "\\" in self.name:
            raise ConfigError(f"report name {self.name!r} must not contain a path separator")
        if self.schedule not in SCHEDULES:
            raise ConfigError(
                f"report schedule {self.schedule!r} is not one of {', '.join(SCHEDULES)}"
            )
        channels = tuple(dict.fromkeys(c.upper() for c in self.channels))
        if not channels or any(c not in CHANNELS for c in channels):
            raise ConfigError(
                f"report channels {list(self.channels)!r} must be among {', '.join(CHANNELS)}"
            )
        object.__setattr__(self, "channels", channels)
        if self.range_days is None:
            object.__setattr__(self, "range_days", _DEFAULT_RANGE[self.schedule])
        if (
            isinstance(self.range_days, bool)
            or not isinstance(self.range_days, int)
            or not 1 <= self.range_days <= MAX_RANGE_DAYS
        ):
            raise ConfigError(
                f"report range_days must be 1..{MAX_RANGE_DAYS} (MoEngage's maximum data "
                f"range), got {self.range_days!r}"
            )

    @property
    def days(self) -> int:
        """Days of data per file."""
        return int(self.range_days or 0)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> ReportDefinition:
        """Build from JSON.

        Fields: ``name``, ``generated_on`` (``YYYY-MM-DD``; ``generation_date`` also
        accepted), ``schedule``, ``channels``, ``range_days``, ``workspace``.

        Raises:
            ConfigError: Naming the field that is wrong.
        """
        if not isinstance(document, Mapping):
            raise ConfigError("a report definition must be a JSON object")
        known = {"name", "generated_on", "generation_date", "schedule", "channels"}
        known |= {"range_days", "workspace"}
        unknown = sorted(set(document) - known)
        if unknown:
            raise ConfigError(f"unknown report fields: {', '.join(unknown)}")
        raw_day = document.get("generated_on", document.get("generation_date"))
        if not isinstance(raw_day, str):
            raise ConfigError("a report needs generated_on as YYYY-MM-DD")
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise ConfigError(f"generated_on {raw_day!r} is not a YYYY-MM-DD date") from None
        channels = document.get("channels", CHANNELS)
        if isinstance(channels, str):
            channels = [channels]
        if not isinstance(channels, list | tuple) or not all(isinstance(c, str) for c in channels):
            raise ConfigError("report channels must be a list of PUSH, EMAIL, SMS")
        workspace = document.get("workspace")
        if workspace is not None and not isinstance(workspace, str):
            raise ConfigError("report workspace must be a string")
        return cls(
            name=document.get("name"),  # type: ignore[arg-type]  # checked in __post_init__
            generated_on=day,
            schedule=document.get("schedule", "one_time"),
            channels=tuple(channels),
            range_days=document.get("range_days"),
            workspace=workspace,
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain representation (JSON)."""
        return {
            "name": self.name,
            "generated_on": self.generated_on.isoformat(),
            "schedule": self.schedule,
            "channels": list(self.channels),
            "range_days": self.days,
        }

    def describe(self, now: float) -> dict[str, Any]:
        """The definition with its workspace and latest files (inspection API)."""
        return {
            **self.to_dict(),
            "workspace": self.workspace,
            "files": [report_file.to_dict(now) for report_file in self.files(now)],
        }

    def generation_days(self, until: date) -> Iterator[date]:
        """Generation days up to ``until`` (inclusive), oldest first."""
        if self.schedule == "one_time":
            if self.generated_on <= until:
                yield self.generated_on
            return
        if self.schedule in ("daily", "weekly"):
            step = timedelta(days=1 if self.schedule == "daily" else 7)
            day = self.generated_on
            while day <= until:
                yield day
                day += step
            return
        year, month, wanted = self.generated_on.year, self.generated_on.month, self.generated_on.day
        while True:
            day = date(year, month, min(wanted, calendar.monthrange(year, month)[1]))
            if day > until:
                return
            yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)

    def generates_on(self, day: date) -> bool:
        """Whether a file is generated on ``day``."""
        return day in self.generation_days(day)

    def file(self, day: date) -> ReportFile:
        """The file generated on ``day``."""
        generated = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return ReportFile(
            filename=f"{file_stem(self.name)}_{day:%Y%m%d}.zip",
            generated_on=day,
            first_day=day - timedelta(days=self.days),
            last_day=day - timedelta(days=1),
            expires_at=generated + timedelta(days=limits.REPORT_EXPIRY_DAYS),
        )

    def files(self, now: float) -> list[ReportFile]:
        """The latest files generated by ``now`` (newest first, at most 31)."""
        days = list(self.generation_days(utc_day(now)))
        return [self.file(day) for day in reversed(days[-_LISTED_FILES:])]


def parse_reports(value: str, *, source: str = ENV_REPORTS) -> list[ReportDefinition]:
    """Definitions from a JSON list of them, or from ``@path`` naming a file holding one.

    Args:
        value: The JSON text, or ``@`` and a file path.
        source: Where the value came from, named in errors (a variable, a CLI option).

    Raises:
        ConfigError: When the value is not a list of valid definitions.
    """
    raw = value.strip()
    if raw.startswith("@"):
        try:
            raw = Path(raw[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{source}: cannot read {raw[1:]}: {exc.strerror}") from None
    try:
        documents = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ConfigError(f"{source} must be a JSON list of report definitions") from None
    if not isinstance(documents, list):
        raise ConfigError(f"{source} must be a JSON list of report definitions")
    return [ReportDefinition.from_dict(document) for document in documents]


def reports_from_env(environ: Mapping[str, str] | None = None) -> list[ReportDefinition]:
    """Definitions from ``MOENGAGE_EMULATOR_REPORTS`` (see ``parse_reports``); none when unset.

    Raises:
        ConfigError: When the value is not a list of valid definitions.
    """
    env = os.environ if environ is None else environ
    raw = env.get(ENV_REPORTS, "").strip()
    return parse_reports(raw, source=ENV_REPORTS) if raw else []


class ReportBook:
    """Report definitions of one emulator's store (a thin view; construct it freely).

    Args:
        store: The emulator's store.
        default_workspace: Workspace of definitions that name none.
    """

    def __init__(self, store: Store, default_workspace: str) -> None:
        self._store = store
        self._default = default_workspace

    @staticmethod
    def install(store: Store) -> None:
        """Create the table (once, when the endpoints are registered)."""
        store.add_tables(_SCHEMA)

    def define(self, definition: ReportDefinition) -> ReportDefinition:
        """Add a definition, replacing one of the same name in its workspace."""
        workspace = definition.workspace or self._default
        with self._store.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO report_definitions (workspace, name, definition) "
                "VALUES (?,?,?)",
                (workspace, definition.name, orjson.dumps(definition.to_dict()).decode()),
            )
        return ReportDefinition.from_dict({**definition.to_dict(), "workspace": workspace})

    def definitions(self, workspace: str | None = None) -> list[ReportDefinition]:
        """Definitions of a workspace, by name."""
        workspace = workspace or self._default
        rows = self._store.fetch(
            "SELECT definition FROM report_definitions WHERE workspace = ? ORDER BY name",
            (workspace,),
        )
        return [
            ReportDefinition.from_dict({**orjson.loads(row[0]), "workspace": workspace})
            for row in rows
        ]

    def find(self, workspace: str, stem: str) -> ReportDefinition | None:
        """The definition whose file stem is ``stem``, or None."""
        return next((d for d in self.definitions(workspace) if file_stem(d.name) == stem), None)

    def clear(self, workspace: str | None = None) -> int:
        """Remove every definition of a workspace; returns how many there were."""
        with self._store.transaction() as db:
            return db.execute(
                "DELETE FROM report_definitions WHERE workspace = ?",
                (workspace or self._default,),
            ).rowcount
