"""``moengage-pipelines pull``: campaigns, campaign stats and report files, no Dagster.

Connection settings come from the ``MOENGAGE_*`` variables; the warehouse from
``--warehouse`` or ``MOENGAGE_RESULTS_URL`` / ``MOENGAGE_WAREHOUSE_URL``. Each command prints
one JSON summary on stdout, with the HTTP requests sent, retries, 429s and 5xx answers, also
when it fails part-way (then with the error, also shown on stderr).

Examples::

    moengage-pipelines pull campaigns --warehouse duckdb:///tmp/wh.duckdb
    moengage-pipelines pull stats --day 2025-03-04                  # and the 2 days before
    moengage-pipelines pull stats --start 2025-02-01 --end 2025-02-28 --campaigns active
    moengage-pipelines pull report --report-name "Daily Push" --day 2025-03-05
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

from moengage_pipelines.cli.pull_output import (
    client_counters,
    print_document,
    report_document,
    stats_document,
)
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.errors import ConfigError, MoEngageError

__all__ = ["register"]

WAREHOUSE_VARIABLES = ("MOENGAGE_RESULTS_URL", "MOENGAGE_WAREHOUSE_URL")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``pull`` subcommand and its ``campaigns``, ``stats`` and ``report`` commands."""
    parser = subparsers.add_parser(
        "pull",
        help="Pull campaigns, campaign stats or report files from MoEngage into the warehouse.",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="pull_command", required=True, metavar="WHAT")

    campaigns = commands.add_parser("campaigns", help="Every campaign → moengage_campaigns")
    _common(campaigns)
    campaigns.add_argument(
        "--channel",
        action="append",
        choices=("PUSH", "EMAIL", "SMS"),
        help="Only this channel (repeatable; default all). Other campaigns stay in the table.",
    )
    campaigns.add_argument(
        "--no-children", action="store_true", help="Leave out periodic children and flow nodes."
    )
    campaigns.add_argument(
        "--no-archived", action="store_true", help="Leave out archived campaigns."
    )
    campaigns.set_defaults(handler=_run_campaigns)

    stats = commands.add_parser(
        "stats",
        help="Campaign stats, one day at a time → moengage_campaign_stats(_daily)",
        description=(
            "Stats are requested one day at a time (start_date = end_date) so every row has a "
            "day; each pulled day's rows are replaced, so re-running is safe."
        ),
    )
    _common(stats)
    when = stats.add_mutually_exclusive_group()
    when.add_argument("--day", type=_date, help="Day to pull (default: yesterday, UTC).")
    when.add_argument("--start", type=_date, help="First day of a range (with --end).")
    stats.add_argument("--end", type=_date, help="Last day of a range (inclusive).")
    stats.add_argument(
        "--lookback",
        type=int,
        help="Days re-pulled ending at the first day, for restated conversions "
        "(default 3 with --day, 1 with --start/--end).",
    )
    stats.add_argument(
        "--campaigns",
        choices=("pulled", "active"),
        default="pulled",
        help="pulled: ids from moengage_campaigns (pull campaigns first); active: let "
        "MoEngage list the campaigns active each day (default pulled).",
    )
    stats.add_argument("--campaign-id", action="append", help="Only this campaign (repeatable).")
    stats.add_argument(
        "--attribution-type",
        action="append",
        help="VIEW_THROUGH, CLICK_THROUGH, IN_SESSION, TOTAL_CONVERSIONS or "
        "CLICK_CONVERSIONS (repeatable; default CLICK_THROUGH).",
    )
    stats.add_argument(
        "--metric-type", action="append", help="TOTAL or UNIQUE (repeatable; default TOTAL)."
    )
    stats.set_defaults(handler=_run_stats)

    report = commands.add_parser("report", help="A campaign report file → moengage_report_<name>")
    _common(report)
    report.add_argument(
        "--report-name", required=True, action="append", help="Report name (repeatable)."
    )
    report.add_argument(
        "--day", type=_date, help="Generation date in the file name (default: today, UTC)."
    )
    report.set_defaults(handler=_run_report)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--warehouse",
        help="duckdb:///path.duckdb or postgresql://... (default: $MOENGAGE_RESULTS_URL, "
        "else $MOENGAGE_WAREHOUSE_URL).",
    )


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _warehouse_url(args: argparse.Namespace) -> str:
    url = args.warehouse or next(
        (os.environ[name] for name in WAREHOUSE_VARIABLES if os.environ.get(name)), None
    )
    if not url:
        raise ConfigError(f"no warehouse: pass --warehouse or set {WAREHOUSE_VARIABLES[0]}")
    return url


@contextmanager
def _client_and_warehouse(args: argparse.Namespace) -> Iterator[tuple[Any, Any]]:
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.warehouse import Warehouse

    settings = MoEngageSettings.from_env()
    settings.key("campaign")  # fail before any request when the key is missing
    url = _warehouse_url(args)
    # The client's default budget is the one the Dagster resource uses (same store and
    # namespace), so a CLI pull and a scheduled run never exceed the workspace's limits together.
    with MoEngageClient(settings) as client, Warehouse.open(url) as warehouse:
        yield client, warehouse


def _run_campaigns(args: argparse.Namespace) -> int:
    from moengage_pipelines.pull.campaigns.fetch import ALL_CHANNELS, CampaignsOptions
    from moengage_pipelines.pull.campaigns.load import pull_campaigns

    options = CampaignsOptions(
        channels=tuple(args.channel or ALL_CHANNELS),
        include_child_campaigns=not args.no_children,
        include_archive_campaigns=not args.no_archived,
    )
    with _client_and_warehouse(args) as (client, warehouse):
        report = pull_campaigns(client, warehouse, options)
        print_document({**report.to_metadata(), **client_counters(client.stats)})
    return 0


def _run_stats(args: argparse.Namespace) -> int:
    from moengage_pipelines.pull.errors import StatsDayError
    from moengage_pipelines.pull.stats.load import pull_stats
    from moengage_pipelines.pull.stats.request import StatsOptions
    from moengage_pipelines.pull.stats.selection import stats_days

    if args.start is not None or args.end is not None:
        if args.start is None or args.end is None:
            raise ConfigError("--start and --end go together")
        start, end, lookback = args.start, args.end, args.lookback or 1
    else:
        end = args.day or datetime.now(UTC).date() - timedelta(days=1)
        start, lookback = end, args.lookback or 3
    try:
        days = stats_days(end, lookback, start=start)
        options = StatsOptions(
            attribution_types=tuple(args.attribution_type or ("CLICK_THROUGH",)),
            metric_types=tuple(args.metric_type or ("TOTAL",)),
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    campaigns = args.campaign_id or args.campaigns
    with _client_and_warehouse(args) as (client, warehouse):
        try:
            report = pull_stats(client, warehouse, days, campaigns=campaigns, options=options)
        except StatsDayError as exc:
            # The days committed before the failure are in the summary; the error follows.
            print_document(stats_document(exc.report, client_counters(client.stats), str(exc)))
            raise
        print_document(stats_document(report, client_counters(client.stats), None))
    if report.unknown_campaign_ids:
        print(
            f"warning: no numbers for {len(report.unknown_campaign_ids)} campaign id(s): "
            f"{', '.join(report.unknown_campaign_ids[:10])}",
            file=sys.stderr,
        )
    return 0


def _run_report(args: argparse.Namespace) -> int:
    from moengage_pipelines.pull.report_files.load import pull_report

    day = args.day or datetime.now(UTC).date()
    outcomes: list[Any] = []
    summaries: list[dict[str, Any]] = []
    with _client_and_warehouse(args) as (client, warehouse):
        for name in args.report_name:
            try:
                outcome = pull_report(client, warehouse, name, day)
            except MoEngageError as exc:
                summaries.append({"report_name": name, "status": "failed", "message": str(exc)})
                print_document(report_document(summaries, client_counters(client.stats), str(exc)))
                raise
            outcomes.append(outcome)
            summaries.append(outcome.to_metadata())
        print_document(report_document(summaries, client_counters(client.stats), None))
    for outcome in outcomes:
        if not outcome.present:
            print(f"error: {outcome.message}", file=sys.stderr)
    return 0 if all(outcome.present for outcome in outcomes) else 1
