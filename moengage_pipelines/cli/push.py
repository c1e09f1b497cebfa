"""``moengage-pipelines push users|events|catalog``: run a push without Dagster.

Connection settings come from the ``MOENGAGE_*`` variables (a dry run needs none). A progress
display is shown when stdout is a terminal; the totals are printed at the end either way.

The delivery state is on by default (``MOENGAGE_STATE_URL``, ``--state``, else a local file):
a re-run of the same window sends only what MoEngage has not accepted, as Dagster's pushes do.
Exit codes: 0 when every valid row was delivered, 1 when some failed or were held back, 2 for
a usage or configuration error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from contextlib import ExitStack
from typing import Any

from moengage_pipelines.cli.arguments import at_least, body_limit
from moengage_pipelines.cli.push_output import Progress, print_plan, print_report
from moengage_pipelines.cli.reconcile import add_verify_sample, verify_after_push
from moengage_pipelines.cli.windows import add_window_arguments, partition_of, window_of

__all__ = ["register"]

ENTITIES = ("users", "events", "catalog")
# The resend policies (``moengage_pipelines.push.ledger.RESEND_POLICIES``), spelled out so
# that ``--help`` imports nothing heavy.
RESEND_CHOICES = ("ambiguous", "never", "always")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``push`` subcommand."""
    parser = subparsers.add_parser(
        "push",
        help="push users, events or catalog items from a warehouse or Parquet to MoEngage",
        description=(
            "Read rows, validate them against MoEngage's rules, pack them into request bodies "
            "and send them. Settings come from MOENGAGE_WORKSPACE_ID, MOENGAGE_DATA_API_KEY, "
            "MOENGAGE_CAMPAIGN_API_KEY, MOENGAGE_DC and MOENGAGE_BASE_URL. Exit code 0 when "
            "every valid row was delivered, 1 when some failed or were held, 2 on bad input."
        ),
    )
    parser.add_argument("entity", choices=ENTITIES, help="what the rows are")
    parser.add_argument(
        "--source", required=True,
        help="parquet:<path or glob>, duckdb:<file>, postgresql://..., snowflake://... or "
        "adbc+<driver>://... (see --table/--sql and docs/sources.md)",
    )
    parser.add_argument("--mapping", required=True, help="mapping YAML file")
    relation = parser.add_mutually_exclusive_group()
    relation.add_argument("--table", help="table to read (databases)")
    relation.add_argument("--sql", help="query to read (databases)")
    parser.add_argument(
        "--order-by", metavar="COLUMNS",
        help="comma-separated columns to sort database rows by (a unique key): the delivery "
        "state recognises bodies sent before only when rows come in the same order",
    )
    add_window_arguments(parser)
    parser.add_argument("--dry-run", action="store_true", help="validate and pack; send nothing")
    parser.add_argument(
        "--max-body-bytes", type=body_limit, default=None,
        help="bulk-import body limit in bytes (100000, MoEngage's limit; at least 1000)",
    )
    parser.add_argument(
        "--concurrency", type=at_least(1), default=4, help="requests in flight (4)"
    )
    parser.add_argument(
        "--batch-rows", type=at_least(1), default=65_536, help="rows read at a time"
    )
    parser.add_argument("--sync-name", default=None, help="name stored with state and letters")
    state = parser.add_mutually_exclusive_group()
    state.add_argument(
        "--state", metavar="URL",
        help="where the delivery state is kept: duckdb:///file.duckdb or postgresql://... "
        "(default: MOENGAGE_STATE_URL, else ~/.local/state/moengage-pipelines/state.duckdb)",
    )
    state.add_argument(
        "--no-state", action="store_true",
        help="keep no delivery state: a re-run resends every row, and a body whose answer "
        "was lost cannot be told apart (events may arrive twice)",
    )
    parser.add_argument(
        "--dead-letters", metavar="WAREHOUSE_URL",
        help="warehouse receiving rejected rows and catalog state (default: the state's)",
    )
    parser.add_argument(
        "--resend", choices=RESEND_CHOICES,
        help="bodies an earlier run may have delivered (answer lost): ambiguous (default: "
        "send again, at least once), never (at most once: hold them, exit 1) or always "
        "(resend every body)",
    )
    parser.add_argument(
        "--fail-on-rejects", action="store_true", help="exit 1 if any row is rejected"
    )
    parser.add_argument(
        "--full", action="store_true",
        help="users and catalog: send every row, unchanged ones too, and refresh the hashes "
        "the diff sync compares with (by default only new, changed and retried rows are sent)",
    )
    parser.add_argument(
        "--since-last-run", action="store_true",
        help="events: read from the end of the last successful run (minus --lookback) up to "
        "now; events delivered inside the lookback are not sent again",
    )
    parser.add_argument(
        "--lookback", type=_duration, default=None, metavar="DURATION",
        help="with --since-last-run: how far back to read again for late rows (2h; e.g. 30m, "
        "6h, 1d)",
    )
    add_verify_sample(parser)
    parser.set_defaults(handler=_run)


def _duration(text: str) -> dt.timedelta:
    """``30m``, ``2h``, ``1d`` or seconds, as a ``timedelta``."""
    units = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
    text = text.strip().lower()
    unit = units.get(text[-1:]) if text else None
    number = text[:-1] if unit else text
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a duration: {text!r} (use e.g. 30m, 2h, 1d)"
        ) from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"a duration cannot be negative: {text!r}")
    return dt.timedelta(seconds=value * (unit or 1))


def _run(args: argparse.Namespace) -> int:
    from moengage_pipelines.errors import ConfigError
    from moengage_pipelines.limits import TRANSITION_MAX_BYTES
    from moengage_pipelines.push.ledger.location import default_state_url
    from moengage_pipelines.push.mapping import load_mapping
    from moengage_pipelines.push.options import PushOptions
    from moengage_pipelines.push.pipeline import run_push
    from moengage_pipelines.redaction import redact_url
    from moengage_pipelines.sources import open_source

    mapping = load_mapping(args.mapping)
    if mapping.entity != args.entity:
        raise ConfigError(f"{args.mapping} maps {mapping.entity}, not {args.entity}")
    window = window_of(args)
    order_by = [c.strip() for c in args.order_by.split(",") if c.strip()] if args.order_by else None
    source = open_source(args.source, table=args.table, sql=args.sql, time_column=args.time_column,
                         order_by=order_by)
    source.schema()  # an unreadable or empty source is an input error, before anything else
    if args.resend and args.no_state:
        raise ConfigError("--resend needs the delivery state: drop --no-state")
    if args.since_last_run and (window is not None or args.no_state):
        raise ConfigError(
            "--since-last-run reads its window from the delivery state: drop --day, "
            "--window-start/--window-end and --no-state"
        )
    if args.since_last_run and not args.time_column:
        raise ConfigError("--since-last-run needs --time-column")
    if args.lookback is not None and not args.since_last_run:
        raise ConfigError("--lookback goes with --since-last-run")
    state_url = None if args.no_state else (args.state or default_state_url())
    if state_url is None:
        print(
            "warning: --no-state: nothing records what MoEngage accepted; a re-run resends "
            "every row, and a body whose answer is lost may arrive twice",
            file=sys.stderr,
        )
    with ExitStack() as stack:
        client = None if args.dry_run else stack.enter_context(_client())
        stores = _Stores(stack, state_url, dead_letters_url=args.dead_letters, dry=args.dry_run)
        progress = stack.enter_context(Progress(args.dry_run))
        options = PushOptions(
            max_body_bytes=args.max_body_bytes or TRANSITION_MAX_BYTES,
            batch_rows=args.batch_rows,
            concurrency=args.concurrency,
            dry_run=args.dry_run,
            on_progress=progress.update,
            resend=args.resend,
            full=args.full,
            lookback=args.lookback,
        )
        report = run_push(
            source, mapping, client, sync_name=args.sync_name or f"cli/{args.entity}",
            partition=partition_of(window), window=window, options=options,
            dead_letters=stores.dead_letters(), catalog_state=stores.catalog_state(),
            ledger=stores.ledger(), since_last_run=args.since_last_run,
        )
    print_report(report, state=None if state_url is None else redact_url(state_url))
    if report.rows_read == 0:
        # An empty window is normal for a scheduled push, so not an error; but a typo in a
        # table or window silently sending nothing should not look like success either.
        scope = f" in the window {window}" if window is not None else ""
        print(f"warning: {source.describe()} returned no rows{scope}", file=sys.stderr)
    if args.dry_run:
        print_plan(report)
    if args.verify_sample and report.ok and not verify_after_push(args, mapping, window, state_url):
        return 1
    if not report.ok:
        return 1
    if args.fail_on_rejects and report.rows_rejected:
        print(f"error: {report.rows_rejected} rows rejected", file=sys.stderr)
        return 1
    return 0


def _client() -> Any:
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.config import MoEngageSettings

    return MoEngageClient(MoEngageSettings.from_env())


class _Stores:
    """The warehouses a CLI push keeps its state, dead letters and catalog state in."""

    def __init__(
        self, stack: ExitStack, state_url: str | None, *, dead_letters_url: str | None,
        dry: bool,
    ) -> None:
        from moengage_pipelines.push.ledger.location import open_state
        from moengage_pipelines.warehouse import Warehouse

        self._state = None
        if state_url is not None:
            self._state = stack.enter_context(open_state(state_url, read_only=dry))
        # A dry run opens the state read-only: its rejects are counted, not stored there.
        self._letters = None if dry else self._state
        if dead_letters_url is not None:
            self._letters = stack.enter_context(Warehouse.open(dead_letters_url))

    def ledger(self) -> Any:
        from moengage_pipelines.push.ledger import PushLedger

        return None if self._state is None else PushLedger(self._state)

    def dead_letters(self) -> Any:
        from moengage_pipelines.push.dead_letters import DeadLetterWriter

        return None if self._letters is None else DeadLetterWriter(self._letters)

    def catalog_state(self) -> Any:
        from moengage_pipelines.push.catalog.state import WarehouseCatalogState

        home = self._letters or self._state
        return None if home is None else WarehouseCatalogState(home)
