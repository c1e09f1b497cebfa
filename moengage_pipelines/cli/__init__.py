"""The ``moengage-pipelines`` command: ``emulator``, ``push`` and ``pull`` subcommands.

Each subcommand lives in its own module exposing ``register(subparsers)``; the parser it adds
sets ``handler`` to a function taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from moengage_pipelines import __version__
from moengage_pipelines.errors import MoEngageError

__all__ = ["build_parser", "main"]

_SUBCOMMAND_MODULES = ("emulator", "push", "pull")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="moengage-pipelines",
        description="Move data between a warehouse and MoEngage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _SUBCOMMAND_MODULES:
        module = importlib.import_module(f"moengage_pipelines.cli.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except MoEngageError as exc:
        # Library errors carry a clear message and never a key; a traceback adds nothing.
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
