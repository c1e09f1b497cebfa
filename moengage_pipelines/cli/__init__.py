"""The ``moengage-pipelines`` command: ``emulator``, ``push``, ``pull`` and ``reconcile``.

Each subcommand lives in its own module exposing ``register(subparsers)``; the parser it adds
sets ``handler`` to a function taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from moengage_pipelines import __version__
from moengage_pipelines.cli.arguments import OneLineErrorParser
from moengage_pipelines.errors import MoEngageError

__all__ = ["DEBUG_VARIABLE", "build_parser", "main"]

DEBUG_VARIABLE = "MOENGAGE_DEBUG"
_KEY_VARIABLES = ("MOENGAGE_DATA_API_KEY", "MOENGAGE_CAMPAIGN_API_KEY")

_SUBCOMMAND_MODULES = ("emulator", "push", "pull", "reconcile")


def build_parser() -> OneLineErrorParser:
    """Build the argument parser with every subcommand registered."""
    parser = OneLineErrorParser(
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
    """Run the command line; returns the process exit code.

    A user sees one ``error:`` line, never a traceback: exit code 2 for usage, configuration
    and input errors, 1 for anything unexpected (``MOENGAGE_DEBUG=1`` shows its traceback).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return int(args.handler(args) or 0)
    except MoEngageError as exc:
        # Library errors carry a clear message and never a key; a traceback adds nothing.
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(f"error: unexpected {type(exc).__name__}: {_scrubbed(str(exc))} "
              f"(set {DEBUG_VARIABLE}=1 to see where)", file=sys.stderr)
        return 1


def _scrubbed(text: str) -> str:
    """``text`` without any key configured in the environment, in any form."""
    from moengage_pipelines.redaction import scrub_secrets

    keys = [os.environ.get(name, "") for name in _KEY_VARIABLES]
    workspace = os.environ.get("MOENGAGE_WORKSPACE_ID") or None
    return scrub_secrets(text, [key for key in keys if key], basic_auth_user=workspace)


if __name__ == "__main__":
    sys.exit(main())
