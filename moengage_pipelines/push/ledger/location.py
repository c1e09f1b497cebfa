"""Where the delivery state lives when nothing else is said: a local file, on by default.

MoEngage keeps no event de-duplication and bulk import answers 200 to everything, so a push
without state cannot tell a body it delivered from one it did not: a re-run resends all, a
lost answer cannot be told apart. The state is therefore on unless switched off:

1. ``MOENGAGE_STATE_URL`` (or ``--state``) names a warehouse: ``postgresql://...`` for state
   shared by several machines, or a DuckDB file;
2. otherwise a DuckDB file in the user's state directory:
   ``$XDG_STATE_HOME/moengage-pipelines/state.duckdb`` (``~/.local/state/...`` when unset).

A DuckDB file takes one writer at a time: pushes running at once on one machine each need
their own file, or a PostgreSQL state.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from moengage_pipelines.errors import ConfigError
from moengage_pipelines.push.ledger.layout import ensure_layout
from moengage_pipelines.redaction import redact_url
from moengage_pipelines.warehouse import Warehouse, WarehouseError, WarehouseURL

__all__ = ["STATE_URL_VARIABLE", "StateError", "default_state_url", "open_state"]

STATE_URL_VARIABLE = "MOENGAGE_STATE_URL"


class StateError(ConfigError):
    """The delivery state cannot be opened; the message says which and why."""


def default_state_url(environ: Mapping[str, str] | None = None) -> str:
    """The state's URL: ``MOENGAGE_STATE_URL``, else the user's local state file."""
    environ = os.environ if environ is None else environ
    url = (environ.get(STATE_URL_VARIABLE) or "").strip()
    if url:
        return url
    base = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return f"duckdb:///{Path(base).expanduser().absolute() / 'moengage-pipelines' / 'state.duckdb'}"


@contextmanager
def open_state(url: str, *, read_only: bool = False) -> Iterator[Warehouse | None]:
    """Open the state's warehouse for one push.

    Args:
        url: The state's URL (see :func:`default_state_url`).
        read_only: Only consult it (a dry run). A state file that does not exist yet yields
            None: there is nothing to consult, and a dry run creates nothing.

    Raises:
        StateError: When it cannot be opened (a file another push holds, a server that does
            not answer, a folder that cannot be created).
        StateLayoutError: When another project or an older layout wrote it (see ``layout``).
    """
    try:
        parsed = WarehouseURL.parse(url)
    except WarehouseError as exc:
        raise StateError(f"the delivery state URL is not usable: {exc}") from None
    if parsed.kind == "duckdb" and parsed.target != ":memory:":
        path = Path(parsed.target)
        if read_only and not path.exists():
            yield None
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"cannot create the state folder {path.parent}: {exc.strerror}"
            ) from None
    try:
        warehouse = Warehouse.open(parsed, read_only=read_only)
    except WarehouseError as exc:
        hint = ""
        if "lock" in str(exc).lower():
            hint = (
                "; another push is using this state file: give each concurrent push its own "
                f"--state (or {STATE_URL_VARIABLE}), or keep the state in PostgreSQL"
            )
        raise StateError(f"cannot open the delivery state {redact_url(url)}: {exc}{hint}") from None
    with warehouse:
        # Tables of another project or an older layout are refused before any is read.
        ensure_layout(warehouse, read_only=read_only)
        yield warehouse
