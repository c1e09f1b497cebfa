"""The pulls wired together: MoEngage → normalized rows → warehouse tables, idempotently.

* :func:`pull_catalogue`: every campaign into ``moengage_campaigns``.
* :func:`pull_stats`: one day at a time into ``moengage_campaign_stats`` (tidy) and
  ``moengage_campaign_stats_daily`` (wide); each day's rows are *replaced*, so re-pulling a
  day (the nightly lookback re-pulls the last 3, because conversions restate) never
  duplicates anything.
* :func:`pull_report`: one report file into ``moengage_report_<name>``, replacing the rows of
  its generation date. A missing or expired file writes nothing (rows loaded earlier stay)
  and comes back as a report with ``status`` ``missing`` / ``expired``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.pull.campaigns import (
    CatalogueOptions,
    SearchClient,
    campaign_record,
    fetch_campaigns,
)
from moengage_pipelines.pull.errors import PullError, ReportUnavailableError
from moengage_pipelines.pull.normalization import (
    ShapeIssue,
    daily_rows,
    platform_total_rows,
)
from moengage_pipelines.pull.reports import (
    ReportClient,
    download_report,
    read_report,
)
from moengage_pipelines.pull.stats import StatsClient, StatsOptions, fetch_day
from moengage_pipelines.pull.tables import (
    CAMPAIGNS_SCHEMA,
    CAMPAIGNS_TABLE,
    STATS_DAILY_SCHEMA,
    STATS_DAILY_TABLE,
    STATS_SCHEMA,
    STATS_TABLE,
    report_table_name,
    to_arrow,
)
from moengage_pipelines.warehouse import Warehouse

__all__ = [
    "CHART_METRICS",
    "CampaignSelection",
    "CatalogueReport",
    "DaySummary",
    "ReportPullReport",
    "StatsReport",
    "catalogue_campaign_ids",
    "catalogue_parents",
    "pull_catalogue",
    "pull_report",
    "pull_stats",
    "stats_days",
]

logger = logging.getLogger(__name__)

CampaignSelection = Literal["catalogue", "active"] | Sequence[str]
"""Which campaigns to ask stats for: ``"catalogue"`` (every campaign of
``moengage_campaigns`` created by the day, 10 per request), ``"active"`` (let MoEngage list
the campaigns active that day, paged), or explicit ids."""

CHART_METRICS = ("sent", "delivered", "clicks", "conversions")
"""The per-day totals reported (and charted) for each pulled day."""


def _issue_texts(issues: Sequence[ShapeIssue | str], limit: int = 20) -> list[str]:
    return [str(issue) for issue in issues[:limit]]


# ----------------------------------------------------------------------------- catalogue


@dataclass
class CatalogueReport:
    """What a catalogue pull did.

    Attributes:
        campaigns: Campaigns written (children included).
        pages: Search pages requested.
        stop_reason: Why paging stopped (``short_page`` is the normal end).
        issues: Items skipped, unreadable timestamps, distrusted pages.
        by_channel: Campaigns per channel.
        merged: True when a filtered pull kept the table's other campaigns.
    """

    campaigns: int = 0
    pages: int = 0
    stop_reason: str = ""
    issues: list[ShapeIssue] = field(default_factory=list)
    by_channel: dict[str, int] = field(default_factory=dict)
    merged: bool = False

    def to_metadata(self) -> dict[str, Any]:
        """Plain values for run metadata or a CLI summary."""
        return {
            "table": CAMPAIGNS_TABLE,
            "campaigns": self.campaigns,
            "pages": self.pages,
            "stop_reason": self.stop_reason,
            "issues": len(self.issues),
            "issue_examples": _issue_texts(self.issues),
            **{f"channel_{name.lower()}": count for name, count in self.by_channel.items()},
        }


def pull_catalogue(
    client: SearchClient,
    warehouse: Warehouse,
    options: CatalogueOptions | None = None,
    *,
    now: datetime | None = None,
) -> CatalogueReport:
    """Pull the campaign catalogue into ``moengage_campaigns``.

    An unfiltered pull (every channel, no extra filter) replaces the table; a filtered one
    replaces only the campaigns it found and keeps the others.

    Args:
        client: A ``MoEngageClient``.
        warehouse: Where ``moengage_campaigns`` lives.
        options: Channels, children, archived, page size, extra filters.
        now: ``pulled_at`` (default: now, UTC).

    Returns:
        What was written and how the paging went.
    """
    options = options or CatalogueOptions()
    pulled_at = now or datetime.now(UTC)
    pull = fetch_campaigns(client, options)
    report = CatalogueReport(pages=pull.pages, stop_reason=pull.stop_reason, issues=pull.issues)
    rows = []
    for item in pull.campaigns:
        row, issues = campaign_record(item, pulled_at)
        rows.append(row)
        report.issues.extend(issues)
        channel = row["channel"] or "UNKNOWN"
        report.by_channel[channel] = report.by_channel.get(channel, 0) + 1
    table = to_arrow(rows, CAMPAIGNS_SCHEMA)
    filtered = bool(options.extra_filters) or set(options.channels) != {"PUSH", "EMAIL", "SMS"}
    if filtered and warehouse.table_exists(CAMPAIGNS_TABLE):
        table = _merge_catalogue(warehouse, table)
        report.merged = True
    warehouse.replace_rows(CAMPAIGNS_TABLE, table)
    report.campaigns = len(rows)
    for issue in report.issues:
        logger.warning("campaign catalogue: %s", issue)
    return report


def _merge_catalogue(warehouse: Warehouse, fresh: pa.Table) -> pa.Table:
    existing = warehouse.query(f"SELECT * FROM {warehouse.table_name(CAMPAIGNS_TABLE).sql}")
    pulled = set(fresh.column("campaign_id").to_pylist())
    kept = [row for row in existing.to_pylist() if row.get("campaign_id") not in pulled]
    return pa.concat_tables([to_arrow(kept, CAMPAIGNS_SCHEMA), fresh])


# ----------------------------------------------------------------------------- stats


def stats_days(
    end: date,
    lookback_days: int = 3,
    *,
    start: date | None = None,
    today: date | None = None,
) -> list[date]:
    """The days a stats pull for ``start..end`` covers with its restatement lookback.

    Conversions are attributed after the message is sent, so a day's numbers keep changing
    for a while; each pull re-reads the ``lookback_days - 1`` days before ``start`` too.
    Days after ``today`` are left out (MoEngage has nothing for them yet).

    Args:
        end: Last day (inclusive).
        lookback_days: Days ending at ``start`` to (re-)pull, at least 1.
        start: First requested day (default ``end``).
        today: Today in UTC (default: now).

    Returns:
        Days in ascending order.
    """
    if lookback_days < 1:
        raise ValueError(f"lookback_days must be at least 1, got {lookback_days}")
    start = start or end
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    today = today or datetime.now(UTC).date()
    first = start - timedelta(days=lookback_days - 1)
    return [
        first + timedelta(days=offset)
        for offset in range((end - first).days + 1)
        if first + timedelta(days=offset) <= today
    ]


def catalogue_campaign_ids(warehouse: Warehouse, day: date) -> list[str] | None:
    """Ids of the catalogue's campaigns created on or before ``day``.

    Returns:
        The ids (possibly empty), or None when the catalogue table does not exist or is empty
        (the caller then asks MoEngage for the campaigns active that day).
    """
    if not warehouse.table_exists(CAMPAIGNS_TABLE):
        return None
    name = warehouse.table_name(CAMPAIGNS_TABLE).sql
    table = warehouse.query(f"SELECT campaign_id, created_at FROM {name} ORDER BY campaign_id")
    if table.num_rows == 0:
        return None
    day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    ids = []
    for campaign_id, created_at in zip(
        table.column("campaign_id").to_pylist(), table.column("created_at").to_pylist(), strict=True
    ):
        if created_at is not None and created_at.tzinfo is None:
            created_at = created_at.replace(tzinfo=UTC)
        # A campaign created after the day cannot have numbers for it.
        if created_at is None or created_at < day_end:
            ids.append(campaign_id)
    return ids


def catalogue_parents(warehouse: Warehouse) -> dict[str, str]:
    """Child campaign id → parent id, from the catalogue (empty when it does not exist)."""
    if not warehouse.table_exists(CAMPAIGNS_TABLE):
        return {}
    name = warehouse.table_name(CAMPAIGNS_TABLE).sql
    table = warehouse.query(
        f"SELECT campaign_id, parent_id FROM {name} WHERE parent_id IS NOT NULL"
    )
    return dict(
        zip(
            table.column("campaign_id").to_pylist(),
            table.column("parent_id").to_pylist(),
            strict=True,
        )
    )


@dataclass
class DaySummary:
    """One pulled day.

    Attributes:
        day: The day.
        rows: Tidy rows written.
        daily_rows: Wide rows written.
        requests: Stats requests sent.
        campaigns: Campaigns with numbers.
        campaigns_asked: Campaign ids asked for (None: MoEngage's active list).
        totals: Sum over campaigns of the all-platform numbers of the first attribution and
            metric type: sent, delivered, impressions, clicks, conversions, revenue. A child
            campaign (a periodic run) whose parent also has numbers that day is left out:
            the parent's numbers already include its runs.
    """

    day: date
    rows: int = 0
    daily_rows: int = 0
    requests: int = 0
    campaigns: int = 0
    campaigns_asked: int | None = None
    totals: dict[str, float] = field(default_factory=dict)


@dataclass
class StatsReport:
    """What a stats pull did, day by day.

    Attributes:
        days: One summary per day, ascending.
        issues: Parts of answers that could not be read (logged; never turned into numbers).
        notes: How the pull adapted, e.g. no catalogue to take campaign ids from.
        attribution_type: Attribution of the totals.
        metric_type: Metric type of the totals.
    """

    days: list[DaySummary] = field(default_factory=list)
    issues: list[ShapeIssue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    attribution_type: str = ""
    metric_type: str = ""

    @property
    def rows(self) -> int:
        """Tidy rows written over all days."""
        return sum(day.rows for day in self.days)

    @property
    def daily_rows(self) -> int:
        """Wide rows written over all days."""
        return sum(day.daily_rows for day in self.days)

    @property
    def requests(self) -> int:
        """Stats requests sent over all days."""
        return sum(day.requests for day in self.days)

    def totals(self) -> dict[str, float]:
        """The chart metrics summed over every day."""
        return {
            metric: sum(day.totals.get(metric, 0.0) for day in self.days)
            for metric in CHART_METRICS
        }

    def to_metadata(self) -> dict[str, Any]:
        """Plain values for run metadata or a CLI summary."""
        return {
            "tables": [STATS_TABLE, STATS_DAILY_TABLE],
            "days": [day.day.isoformat() for day in self.days],
            "rows": self.rows,
            "daily_rows": self.daily_rows,
            "requests": self.requests,
            "campaigns": max((day.campaigns for day in self.days), default=0),
            "attribution_type": self.attribution_type,
            "metric_type": self.metric_type,
            "issues": len(self.issues),
            "issue_examples": _issue_texts(self.issues),
            "notes": self.notes[:20],
            **self.totals(),
        }


def pull_stats(
    client: StatsClient,
    warehouse: Warehouse,
    days: Sequence[date],
    *,
    campaigns: CampaignSelection = "catalogue",
    options: StatsOptions | None = None,
    now: datetime | None = None,
) -> StatsReport:
    """Pull campaign stats day by day and replace each day's rows.

    Each day is fetched completely before anything is written, so a failure leaves the day's
    previous rows as they were.

    Args:
        client: A ``MoEngageClient``.
        warehouse: Where the stats tables live.
        days: Days to pull (see :func:`stats_days` for the lookback).
        campaigns: ``"catalogue"``, ``"active"`` or explicit campaign ids.
        options: Attribution types, metric types, batch size.
        now: ``pulled_at`` (default: now, UTC).

    Returns:
        What was pulled and written, per day.

    Raises:
        StatsNotEnabledError: MoEngage answered 403.
        StatsRequestError: MoEngage refused a request.
        ResponseShapeError: An answer had no ``data`` object.
    """
    options = options or StatsOptions()
    attribution, metric_type = options.combinations[0]
    report = StatsReport(attribution_type=attribution, metric_type=metric_type)
    parents = catalogue_parents(warehouse)
    explicit = None if isinstance(campaigns, str) else list(dict.fromkeys(campaigns))
    if isinstance(campaigns, str) and campaigns not in ("catalogue", "active"):
        raise ValueError(
            f"campaigns must be 'catalogue', 'active' or a list of ids, got {campaigns!r}"
        )
    for day in sorted(set(days)):
        if explicit is not None:
            ids: list[str] | None = explicit
        elif campaigns == "catalogue":
            ids = catalogue_campaign_ids(warehouse, day)
            if ids is None:
                note = (
                    f"{day}: {CAMPAIGNS_TABLE} is missing or empty; asked MoEngage for the "
                    "campaigns active that day instead"
                )
                logger.warning("campaign stats %s", note)
                report.notes.append(note)
        else:
            ids = None
        fetched = fetch_day(client, day, ids, options, now=now)
        report.issues.extend(fetched.issues)
        wide = daily_rows(fetched.rows)
        _write_day(warehouse, day, fetched.rows, wide, explicit)
        report.days.append(
            DaySummary(
                day=day,
                rows=len(fetched.rows),
                daily_rows=len(wide),
                requests=fetched.requests,
                campaigns=len(fetched.campaigns),
                campaigns_asked=None if ids is None else len(ids),
                totals=_day_totals(wide, attribution, metric_type, parents),
            )
        )
        logger.info(
            "campaign stats %s: %d campaigns, %d rows, %d requests",
            day,
            len(fetched.campaigns),
            len(fetched.rows),
            fetched.requests,
        )
    return report


def _write_day(
    warehouse: Warehouse,
    day: date,
    rows: Sequence[Any],
    wide: Sequence[Mapping[str, Any]],
    explicit_ids: list[str] | None,
) -> None:
    tidy = to_arrow((row.as_record() for row in rows), STATS_SCHEMA)
    daily = to_arrow(wide, STATS_DAILY_SCHEMA)
    if explicit_ids is None:
        # The pull covered every campaign of the day: the day's rows are exactly these.
        warehouse.replace_rows(STATS_TABLE, tidy, where={"date": day})
        warehouse.replace_rows(STATS_DAILY_TABLE, daily, where={"date": day})
        return
    # Only some campaigns were asked for: replace just theirs, keep the others of the day.
    for campaign_id in explicit_ids:
        where = {"date": day, "campaign_id": campaign_id}
        warehouse.replace_rows(STATS_TABLE, _only(tidy, campaign_id), where=where)
        warehouse.replace_rows(STATS_DAILY_TABLE, _only(daily, campaign_id), where=where)


def _only(table: pa.Table, campaign_id: str) -> pa.Table:
    return table.filter(pc.equal(table.column("campaign_id"), campaign_id))


def _day_totals(
    wide: Sequence[Mapping[str, Any]],
    attribution: str,
    metric_type: str,
    parents: Mapping[str, str],
) -> dict[str, float]:
    chosen = [
        record
        for record in wide
        if record["attribution_type"] == attribution and record["metric_type"] == metric_type
    ]
    by_campaign: dict[str, list[Mapping[str, Any]]] = {}
    for record in chosen:
        by_campaign.setdefault(record["campaign_id"], []).append(record)
    totals = dict.fromkeys((*CHART_METRICS, "impressions", "revenue"), 0.0)
    for campaign_id, records in by_campaign.items():
        if parents.get(campaign_id) in by_campaign:
            continue
        for record in platform_total_rows(records):
            for metric in totals:
                totals[metric] += record.get(metric) or 0.0
    return totals


# ----------------------------------------------------------------------------- reports


@dataclass
class ReportPullReport:
    """What pulling one report file did.

    Attributes:
        report_name: The report's name.
        generated_on: Generation date in the file name.
        filename: The file asked for.
        status: ``ok``, ``missing`` or ``expired``.
        message: Why the file was not loaded (empty when ``ok``).
        table: The table written.
        rows: Rows written.
        members: CSV files in the download.
        columns: Column name → inferred kind.
        issues: Warnings about the file's contents.
        schema: Arrow schema of the rows written (None when nothing was).
    """

    report_name: str
    generated_on: date
    filename: str
    status: str = "ok"
    message: str = ""
    table: str = ""
    rows: int = 0
    members: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)
    schema: pa.Schema | None = None

    @property
    def present(self) -> bool:
        """True when the file was downloaded."""
        return self.status == "ok"

    def to_metadata(self) -> dict[str, Any]:
        """Plain values for run metadata or a CLI summary."""
        return {
            "report_name": self.report_name,
            "generated_on": self.generated_on.isoformat(),
            "file": self.filename,
            "status": self.status,
            "message": self.message,
            "table": self.table,
            "rows": self.rows,
            "members": self.members,
            "columns": self.columns,
            "issues": self.issues[:20],
        }


def pull_report(
    client: ReportClient,
    warehouse: Warehouse,
    report_name: str,
    generated_on: date,
    *,
    today: date | None = None,
) -> ReportPullReport:
    """Download one report file and replace its rows in ``moengage_report_<name>``.

    Args:
        client: A ``MoEngageClient``.
        warehouse: Where the report table lives.
        report_name: The report's name as configured in the dashboard.
        generated_on: The generation date in the file name.
        today: Today (UTC), to tell an expired file from a missing one.

    Returns:
        The outcome; ``status`` is ``missing`` or ``expired`` (and nothing is written) when
        MoEngage has no such file.

    Raises:
        PullError: If the file's columns cannot be stored in the existing table's types.
    """
    table = report_table_name(report_name)
    try:
        filename, content = download_report(client, report_name, generated_on, today=today)
    except ReportUnavailableError as exc:
        logger.warning("campaign report: %s", exc)
        return ReportPullReport(
            report_name,
            generated_on,
            exc.filename,
            status=exc.reason,
            message=str(exc),
            table=table,
        )
    contents, batches = read_report(content, filename, generated_on)
    schema = contents.schema
    existing = warehouse.table_schema(table) if warehouse.table_exists(table) else None
    conformed = _conform(batches, schema, existing, table)
    # An empty first batch carries the schema, so a file with no rows still creates the table.
    first = pa.RecordBatch.from_pylist([], schema=_target_schema(schema, existing))
    rows = warehouse.replace_rows(
        table, itertools.chain([first], conformed), where={"report_date": generated_on}
    )
    result = ReportPullReport(
        report_name,
        generated_on,
        filename,
        table=table,
        rows=rows,
        members=contents.members,
        columns={column.name: column.kind for column in contents.columns},
        issues=contents.issues,
        schema=_target_schema(schema, existing),
    )
    for issue in contents.issues:
        logger.warning("campaign report %s: %s", filename, issue)
    return result


def _target_schema(schema: pa.Schema, existing: pa.Schema | None) -> pa.Schema:
    """The batch schema, with each column already in the table typed as the table has it."""
    if existing is None:
        return schema
    fields = []
    for column in schema:
        index = existing.get_field_index(column.name)
        fields.append(column if index < 0 else pa.field(column.name, existing.field(index).type))
    return pa.schema(fields)


def _conform(
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    existing: pa.Schema | None,
    table: str,
) -> Iterator[pa.RecordBatch]:
    target = _target_schema(schema, existing)
    if target.equals(schema):
        yield from batches
        return
    for batch in batches:
        arrays = []
        for column, wanted in zip(batch.columns, target, strict=True):
            if column.type.equals(wanted.type):
                arrays.append(column)
                continue
            try:
                arrays.append(column.cast(wanted.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                example = next((v for v in column.to_pylist() if v is not None), None)
                raise PullError(
                    f"column {wanted.name!r} of {table} is {wanted.type} from earlier files, "
                    f"but this file holds {column.type} values such as {example!r} that do not "
                    f"convert ({exc}). Rename the column in the report or load it into a new "
                    "table."
                ) from exc
        yield pa.RecordBatch.from_arrays(arrays, schema=target)
