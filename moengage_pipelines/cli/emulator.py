"""``moengage-pipelines emulator``: run the local MoEngage emulator on a real socket.

Credentials come from ``MOENGAGE_WORKSPACE_ID``, ``MOENGAGE_DATA_API_KEY`` and
``MOENGAGE_CAMPAIGN_API_KEY`` (test defaults when unset); report definitions from
``--reports`` or ``MOENGAGE_EMULATOR_REPORTS``. Prints one line with the URL once
it listens; stops cleanly on SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from moengage_pipelines.errors import ConfigError

if TYPE_CHECKING:
    from moengage_pipelines.emulator import EmulatorSettings


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``emulator`` subcommand."""
    parser = subparsers.add_parser(
        "emulator",
        help="run the local MoEngage emulator",
        description="Serve a local MoEngage (Data, campaigns and stats APIs) for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8765, help="port; 0 picks a free one (default 8765)"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="emulated seconds per real second for rate windows",
    )
    parser.add_argument(
        "--database", default=":memory:", help="SQLite file keeping state across restarts"
    )
    parser.add_argument(
        "--faults",
        default="",
        help="fault rules: 'ENDPOINT:KIND[:key=value,...]' joined by ';', a JSON list, or @FILE",
    )
    parser.add_argument("--fault-seed", type=int, default=0, help="seed of the fault draws")
    parser.add_argument(
        "--reports",
        default=None,
        help="campaign report definitions: a JSON list or @FILE "
        "(default: MOENGAGE_EMULATOR_REPORTS)",
    )
    parser.add_argument(
        "--ratelimit-reset",
        choices=("epoch", "seconds"),
        default="epoch",
        help="x-ratelimit-reset as epoch seconds or seconds left (default epoch)",
    )
    parser.add_argument("--retry-after", action="store_true", help="also send Retry-After on 429")
    parser.add_argument(
        "--no-rate-limits", action="store_true", help="never answer 429 (usage still recorded)"
    )
    parser.add_argument(
        "--transition-max-bytes",
        type=int,
        default=None,
        help="bulk-import body limit (default 102400)",
    )
    parser.add_argument(
        "--account-state",
        action="append",
        default=[],
        metavar="[WORKSPACE=]STATE",
        help="start a workspace (default: the main one) in an account state: blacklisted, "
        "suspended, temporarily_suspended, blocked or secret_not_set; repeatable",
    )
    parser.add_argument("--log-level", default="warning", help="server log level (default warning)")
    parser.set_defaults(handler=run)


def _faults(spec: str) -> list:
    from moengage_pipelines.emulator import parse_faults

    if spec.startswith("@"):
        path = Path(spec[1:])
        try:
            spec = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read fault rules from {path}: {exc.strerror}") from None
    return parse_faults(spec)


def _account_states(values: list[str], main_workspace: str) -> dict[str, str]:
    states: dict[str, str] = {}
    for value in values:
        workspace, _, state = value.rpartition("=")
        states[workspace.strip() or main_workspace] = state.strip()
    return states


def settings_from_args(args: argparse.Namespace) -> EmulatorSettings:
    """The emulator's settings: the ``MOENGAGE_*`` variables, then the options.

    Raises:
        ConfigError: When an option or variable holds an invalid value.
    """
    from moengage_pipelines.emulator import EmulatorSettings
    from moengage_pipelines.emulator.report_definitions import parse_reports

    overrides: dict[str, object] = {
        "time_scale": args.time_scale,
        "database": args.database,
        "faults": tuple(_faults(args.faults)),
        "fault_seed": args.fault_seed,
        "ratelimit_reset": args.ratelimit_reset,
        "retry_after": args.retry_after,
        "rate_limits_enabled": not args.no_rate_limits,
    }
    if args.transition_max_bytes is not None:
        overrides["transition_max_bytes"] = args.transition_max_bytes
    if args.reports is not None:
        overrides["reports"] = tuple(parse_reports(args.reports, source="--reports"))
    settings = EmulatorSettings.from_env(**overrides)
    if args.account_state:
        states = _account_states(args.account_state, settings.workspace_id)
        settings = dataclasses.replace(settings, account_states=states)
    return settings


def run(args: argparse.Namespace) -> int:
    """Start the server and block until SIGINT/SIGTERM."""
    from moengage_pipelines.emulator import Emulator, serve

    settings = settings_from_args(args)
    stop = threading.Event()

    def request_stop(signum: int, frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with (
            Emulator(settings) as emulator,
            serve(emulator, args.host, args.port, log_level=args.log_level) as url,
        ):
            print(
                f"MoEngage emulator listening on {url} (workspace {settings.workspace_id})",
                flush=True,
            )
            while not stop.wait(0.5):
                pass
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
