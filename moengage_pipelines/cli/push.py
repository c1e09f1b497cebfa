"""``moengage-pipelines push users|events|catalog``: run a push without Dagster.

Connection settings come from the ``MOENGAGE_*`` variables (a dry run needs none). A progress
display is shown when stdout is a terminal; the totals are printed at the end either way.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack
from typing import Any

from moengage_pipelines.push.report import PushReport

__all__ = ["register"]

ENTITIES = ("users", "events", "catalog")


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


def _run(args: argparse.Namespace) -> int:
    from moengage_pipelines.errors import ConfigError
    from moengage_pipelines.limits import TRANSITION_MAX_BYTES
    from moengage_pipelines.push.mapping import load_mapping
    from moengage_pipelines.push.pipeline import PushOptions, run_push
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
    interactive = sys.stdout.isatty()
    with ExitStack() as stack:
        client = None if args.dry_run else stack.enter_context(_client())
        dead_letters = catalog_state = None
        if args.dead_letters:
            dead_letters, catalog_state = _results(stack, args.dead_letters)
        progress = stack.enter_context(_Progress(interactive, args.dry_run))
        options = PushOptions(
            max_body_bytes=args.max_body_bytes or TRANSITION_MAX_BYTES,
            batch_rows=args.batch_rows,
            concurrency=args.concurrency,
            dry_run=args.dry_run,
            fail_on_rejects=False,
            on_progress=progress.update,
        )
        report = run_push(
            source, mapping, client, sync_name=sync_name, window=window,
            dead_letters=dead_letters, options=options, catalog_state=catalog_state,
        )
    _print_report(report)
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


def _results(stack: ExitStack, url: str) -> tuple[Any, Any]:
    from moengage_pipelines.push.catalog import WarehouseCatalogState
    from moengage_pipelines.push.dead_letters import DeadLetterWriter
    from moengage_pipelines.warehouse import Warehouse

    warehouse = stack.enter_context(Warehouse.open(url))
    return DeadLetterWriter(warehouse), WarehouseCatalogState(warehouse)


class _Progress:
    """A rich live line while pushing (only on a terminal)."""

    def __init__(self, interactive: bool, dry_run: bool) -> None:
        self.interactive = interactive
        self.dry_run = dry_run
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.interactive:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                transient=True,
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


def _print_report(report: PushReport) -> None:
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
    if not report.dry_run:
        lines.append(f"retries:       {report.retries:,} ({report.http_429:,} x 429)")
    lines.append(f"duration:      {report.duration_seconds:.2f}s")
    print("\n".join(lines))
