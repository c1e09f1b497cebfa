"""``moengage-pipelines emulator``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``emulator`` subcommand."""
    parser = subparsers.add_parser("emulator", help="(not available yet)")
    parser.set_defaults(handler=lambda args: parser.error("not available yet"))
