"""``moengage-pipelines reconcile users``: read pushed users back with Get User and compare.

A random sample of the users a push of the same source and mapping sends is looked up 20 at
a time (MoEngage allows 1,000 users a minute: the client's rate budget waits as needed), and
each attribute sent is compared with what MoEngage holds. Mismatches are printed and recorded
in ``moengage_reconciliation`` of the results warehouse. Exit codes: 0 when MoEngage holds
every sampled user as sent, 1 when something differs, 2 for a usage or configuration error.

``push users --verify-sample N`` runs the same check right after a push.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from moengage_pipelines.cli.arguments import at_least
from moengage_pipelines.cli.windows import add_window_arguments, partition_of, window_of

__all__ = ["add_verify_sample", "register", "verify_after_push"]

# Mismatches printed one per line; the table has them all.
_SHOWN = 10


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reconcile`` subcommand."""
    parser = subparsers.add_parser(
        "reconcile",
        help="read a sample of pushed users back with Get User and compare them",
        description=(
            "Draw N random users from what a push of --source with --mapping sends, look them "
            "up with MoEngage's Get User API (20 a request, 1,000 users a minute) and compare "
            "every attribute sent. Mismatches go to moengage_reconciliation. Exit code 0 when "
            "all match, 1 when some differ, 2 on bad input."
        ),
    )
    parser.add_argument("entity", choices=("users",), help="what to read back (users)")
    parser.add_argument(
        "--source", required=True,
        help="parquet:<path or glob>, duckdb:<file> or postgresql://... (see --table/--sql)",
    )
    parser.add_argument("--mapping", required=True, help="the push's mapping YAML file")
    relation = parser.add_mutually_exclusive_group()
    relation.add_argument("--table", help="table to read (databases)")
    relation.add_argument("--sql", help="query to read (databases)")
    add_window_arguments(parser)
    parser.add_argument(
        "--sample", type=at_least(1), default=100, metavar="N", help="users to check (100)"
    )
    parser.add_argument("--seed", type=int, default=None, help="repeat the same sample")
    parser.add_argument(
        "--results", metavar="WAREHOUSE_URL",
        help="warehouse receiving moengage_reconciliation (default: MOENGAGE_STATE_URL, "
        "else the local state file)",
    )
    parser.add_argument("--sync-name", default=None, help="the push's name, stored with rows")
    parser.add_argument(
        "--batch-rows", type=at_least(1), default=65_536, help="rows read at a time"
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from moengage_pipelines.push.ledger.location import default_state_url
    from moengage_pipelines.push.mapping import load_mapping

    mapping = load_mapping(args.mapping)
    window = window_of(args)
    report = _reconcile(
        args, mapping, window, args.results or default_state_url(), partition_of(window)
    )
    return 0 if report.ok else 1


def add_verify_sample(parser: argparse.ArgumentParser) -> None:
    """Add ``--verify-sample N`` to the ``push`` subcommand."""
    parser.add_argument(
        "--verify-sample", type=at_least(1), default=None, metavar="N",
        help="after a users push, read N random users back with Get User and compare them; "
        "mismatches go to moengage_reconciliation and make the exit code 1",
    )


def verify_after_push(
    args: argparse.Namespace, mapping: Any, window: Any, results_url: str | None
) -> bool:
    """``push --verify-sample N``: reconcile the push just made; False when something differs.

    Dry runs and pushes other than users are not verified (a line says so).
    """
    if args.dry_run or mapping.entity != "users":
        what = "a dry run sends nothing" if args.dry_run else "Get User reads users only"
        print(f"verify: skipped ({what})")
        return True
    args.sample, args.seed = args.verify_sample, None
    results = args.dead_letters or results_url
    report = _reconcile(args, mapping, window, results, partition_of(window))
    return report.ok


def _reconcile(
    args: argparse.Namespace, mapping: Any, window: Any, results_url: str | None,
    partition: str | None,
) -> Any:
    from contextlib import ExitStack

    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.config import MoEngageSettings
    from moengage_pipelines.push.reconcile import reconcile_users
    from moengage_pipelines.redaction import redact_url
    from moengage_pipelines.sources import open_source
    from moengage_pipelines.warehouse import Warehouse

    source = open_source(args.source, table=args.table, sql=args.sql, time_column=args.time_column)
    source.schema()  # an unreadable source is an input error, before any request
    with ExitStack() as stack:
        client = stack.enter_context(MoEngageClient(MoEngageSettings.from_env()))
        results = None
        if results_url is not None:
            results = stack.enter_context(Warehouse.open(results_url))
        report = reconcile_users(
            source, mapping, client, sample_size=args.sample,
            sync_name=args.sync_name or "cli/users", results=results, partition=partition,
            window=window, seed=args.seed, batch_rows=args.batch_rows,
        )
    _print(report, None if results_url is None else redact_url(results_url))
    return report


def _print(report: Any, results: str | None) -> None:
    print(f"reconciled {report.sync_name}: {report.summary()}")
    if report.mismatches:
        counts = ", ".join(f"{name} {n}" for name, n in report.by_attribute().items())
        print(f"mismatches by attribute: {counts}")
        for mismatch in report.mismatches[:_SHOWN]:
            print(
                f"  {mismatch.customer_id}: {mismatch.attribute} {mismatch.reason}, sent "
                f"{_shown(mismatch.sent)}, MoEngage has {_shown(mismatch.found)}"
            )
        if len(report.mismatches) > _SHOWN:
            print(f"  ... {len(report.mismatches) - _SHOWN} more")
    if report.mismatches and report.table and results:
        print(f"recorded in {report.table} of {results} (run_id {report.run_id})")
    elif report.mismatches:
        print("warning: no results warehouse: the mismatches were not recorded", file=sys.stderr)


def _shown(value: Any) -> str:
    return "nothing" if value is None else json.dumps(value, ensure_ascii=False)
