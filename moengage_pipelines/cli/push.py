"""``moengage-pipelines push users|events|catalog``: run a push without Dagster.

Connection settings come from the ``MOENGAGE_*`` variables (a dry run needs none). A progress
display is shown when stdout is a terminal; the totals are printed at the end either way.

With a push ledger (``--ledger``, or the ``--dead-letters`` warehouse), a re-run of the same
window skips the bodies MoEngage already accepted, as Dagster's pushes do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from contextlib import ExitStack
from typing import Any

from moengage_pipelines.push.report import PushReport

__all__ = ["register"]

ENTITIES = ("users", "events", "catalog")
# The push ledger's resend policies (``moengage_pipelines.push.ledger.RESEND_POLICIES``),
# spelled out so that ``--help`` imports nothing heavy.
RESEND_CHOICES = ("never", "ambiguous", "always")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``push`` subcommand."""
    parser = subparsers.add_parser(
        "push",
        help="push users, events or catalog items from a warehouse or Parquet to MoEngage",
        description=(
            "Read rows, validate them against MoEngage's rules, pack them into request bodies "
            "and send them. Settings come from MOENGAGE_WORKSPACE_ID, MOENGAGE_DATA_API_KEY, "
            "MOENGAGE_CAMPAIGN_API_KEY, MOENGAGE_DC and MOENGAGE_BASE_URL."
        ),
    )
    parser.add_argument("entity", choices=ENTITIES, help="what the rows are")
    parser.add_argument(
        "--source", required=True,
        help="parquet:<path or glob>, duckdb:<file> or postgresql://... (see --table/--sql)",
    )
    parser.add_argument("--mapping", required=True, help="mapping YAML file")
    relation = parser.add_mutually_exclusive_group()
    relation.add_argument("--table", help="table to read (databases)")
    relation.add_argument("--sql", help="query to read (databases)")
    parser.add_argument("--time-column", help="timestamp column the time window filters on")
    parser.add_argument("--window-start", help="window start, ISO 8601 (UTC if no zone)")
    parser.add_argument("--window-end", help="window end (exclusive), ISO 8601")
    parser.add_argument("--day", help="the UTC day YYYY-MM-DD as the window")
    parser.add_argument("--dry-run", action="store_true", help="validate and pack; send nothing")
    parser.add_argument(
        "--max-body-bytes", type=int, default=None, help="bulk-import body limit (100000)"
    )
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (4)")
    parser.add_argument("--batch-rows", type=int, default=65_536, help="rows read at a time")
    parser.add_argument("--sync-name", default=None, help="name stored with dead letters")
    parser.add_argument(
        "--dead-letters",
        metavar="WAREHOUSE_URL",
        help="warehouse (duckdb:///file.duckdb, postgresql://...) receiving rejected rows and "
        "catalog state; without it rejects are only counted",
    )
    parser.add_argument(
        "--ledger",
        metavar="WAREHOUSE_URL",
        help="warehouse recording every body sent, so a re-run of the same window skips what "
        "MoEngage accepted (default: the --dead-letters warehouse; none without it)",
    )
    parser.add_argument(
        "--resend",
        choices=RESEND_CHOICES,
        help="with a ledger, bodies an earlier run may have delivered: never (events' default), "
        "ambiguous (users' and catalogs' default) or always (a forced re-push)",
    )
    parser.add_argument(
        "--fail-on-rejects", action="store_true", help="exit non-zero if any row is rejected"
    )
    parser.set_defaults(handler=_run)


def _window(args: argparse.Namespace) -> Any:
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


def _partition(window: Any) -> str | None:
    """The ledger and dead-letter partition of a CLI push: its window, as text."""
    if window is None:
        return None
    start, end = window.start, window.end
    if end - start == dt.timedelta(days=1) and start.time() == dt.time(0):
        return start.date().isoformat()
    return f"{start.isoformat()}/{end.isoformat()}"


def _run(args: argparse.Namespace) -> int:
    from moengage_pipelines.errors import ConfigError
    from moengage_pipelines.limits import TRANSITION_MAX_BYTES
    from moengage_pipelines.push.mapping import load_mapping
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.sources import SourceError, open_source

    mapping = load_mapping(args.mapping)
    if mapping.entity != args.entity:
        raise ConfigError(f"{args.mapping} maps {mapping.entity}, not {args.entity}")
    window = _window(args)
    try:
        source = open_source(
            args.source, table=args.table, sql=args.sql, time_column=args.time_column
        )
    except SourceError as exc:
        raise ConfigError(str(exc)) from None
    sync_name = args.sync_name or f"cli/{args.entity}"
    ledger_url = args.ledger or args.dead_letters
    if args.resend and not ledger_url:
        raise ConfigError("--resend needs a push ledger: give --ledger or --dead-letters")
    with ExitStack() as stack:
        client = None if args.dry_run else stack.enter_context(_client())
        warehouses = _Warehouses(stack)
        dead_letters = catalog_state = ledger = None
        if args.dead_letters:
            dead_letters, catalog_state = _results(warehouses.open(args.dead_letters))
        if ledger_url:
            ledger = _ledger(warehouses.open(ledger_url))
        progress = stack.enter_context(_Progress(args.dry_run))
        options = PushOptions(
            max_body_bytes=args.max_body_bytes or TRANSITION_MAX_BYTES,
            batch_rows=args.batch_rows,
            concurrency=args.concurrency,
            dry_run=args.dry_run,
            fail_on_rejects=False,
            on_progress=progress.update,
            resend=args.resend,
        )
        report = run_push(
            source, mapping, client, sync_name=sync_name, partition=_partition(window),
            window=window, dead_letters=dead_letters, options=options,
            catalog_state=catalog_state, ledger=ledger,
        )
    _print_report(report, ledger=ledger is not None)
    if report.failed_bodies:
        return 1
    if args.fail_on_rejects and report.rows_rejected:
        print(f"error: {report.rows_rejected} rows rejected", file=sys.stderr)
        return 1
    return 0


def _client() -> Any:
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.config import MoEngageSettings

    return MoEngageClient(MoEngageSettings.from_env())


class _Warehouses:
    """Warehouses opened by URL, once each (the ledger often shares the dead letters' one)."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack
        self._open: dict[str, Any] = {}

    def open(self, url: str) -> Any:
        from moengage_pipelines.warehouse import Warehouse

        if url not in self._open:
            self._open[url] = self._stack.enter_context(Warehouse.open(url))
        return self._open[url]


def _results(warehouse: Any) -> tuple[Any, Any]:
    from moengage_pipelines.push.catalog.state import WarehouseCatalogState
    from moengage_pipelines.push.dead_letters import DeadLetterWriter

    return DeadLetterWriter(warehouse), WarehouseCatalogState(warehouse)


def _ledger(warehouse: Any) -> Any:
    from moengage_pipelines.push.ledger import PushLedger

    return PushLedger(warehouse)


class _Progress:
    """A rich live line while pushing (only when stdout is a terminal)."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        from rich.console import Console

        # Rich decides whether stdout is a terminal (TTY_COMPATIBLE/FORCE_COLOR override it).
        console = Console()
        if console.is_terminal:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=console, transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("reading", total=None)
        return self

    def update(self, report: PushReport) -> None:
        if self._progress is None:
            return
        verb = "packed" if self.dry_run else "sent"
        self._progress.update(
            self._task,
            description=(
                f"{report.rows_read:,} rows read, {report.rows_valid:,} valid, "
                f"{report.rows_rejected:,} rejected, {report.bodies:,} bodies {verb}"
            ),
        )

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)


def _print_report(report: PushReport, *, ledger: bool = False) -> None:
    verb = "packed (dry run)" if report.dry_run else "sent"
    lines = [
        f"rows read:     {report.rows_read:,}",
        f"rows valid:    {report.rows_valid:,}",
        f"rows rejected: {report.rows_rejected:,}",
    ]
    for rule, count in sorted(report.rejected_by_rule.items()):
        lines.append(f"  {rule}: {count:,}")
    sent = {"users": report.users_sent, "events": report.events_sent,
            "catalog": report.items_sent}[report.entity]
    lines += [
        f"{report.entity} {verb}: {sent:,}",
        f"bodies:        {report.bodies:,} (ideal {report.ideal_bodies:,}, "
        f"limit {report.max_body_bytes:,} bytes)",
        f"bytes:         {report.bytes_sent:,}",
    ]
    if report.items_updated or report.items_deleted:
        lines.append(f"items updated: {report.items_updated:,}, deleted: {report.items_deleted:,}")
    if report.failed_bodies:
        lines.append(f"failed bodies: {report.failed_bodies:,} ({report.failed_rows:,} rows)")
    if ledger:
        lines.append(
            f"bodies skipped: {report.bodies_skipped:,} ({report.rows_skipped:,} rows) "
            "already accepted by MoEngage"
        )
        if report.bodies_held:
            lines.append(
                f"bodies held:   {report.bodies_held:,} ({report.rows_held:,} rows) may have "
                "been applied; rerun with --resend ambiguous to send them again"
            )
    if not report.dry_run:
        lines.append(f"retries:       {report.retries:,} ({report.http_429:,} x 429)")
    lines.append(f"duration:      {report.duration_seconds:.2f}s")
    print("\n".join(lines))
