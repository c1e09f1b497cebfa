"""pytest fixtures for testing code that talks to MoEngage, against the local emulator.

Installed with the package and registered as the ``moengage_emulator`` pytest plugin, so the
fixtures are there in any test suite without a ``conftest.py``:

* ``moengage_emulator``: a fresh in-process emulator (in-memory state) per test;
* ``moengage_emulator_settings``: the ``MoEngageSettings`` reaching it in-process;
* ``moengage_emulator_server``: the same emulator behind a real uvicorn server on a free
  loopback port (``.url``, ``.emulator``), for code that builds its own HTTP client;
* ``moengage_emulator_factory``: ``make(**settings)`` builds emulators with custom
  ``EmulatorSettings`` (rate limits, faults, a clock...), closed after the test;
* ``moengage_clock``: a ``FakeClock`` for emulators, budgets and retries.

``client_for(emulator_or_server, **options)`` builds a ``MoEngageClient`` for either, with a
rate budget of its own in memory. See "Testing your own sync" in ``docs/emulator.md``.

pytest imports this module in every test run of every project that installs the package, so
it imports nothing heavy at module level: the emulator, the server and the client are
imported inside the fixtures that use them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from moengage_pipelines.emulator.clock import FakeClock

if TYPE_CHECKING:
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.config import MoEngageSettings
    from moengage_pipelines.emulator.core import Emulator
    from moengage_pipelines.emulator.server import EmulatorServer

__all__ = [
    "client_for",
    "moengage_clock",
    "moengage_emulator",
    "moengage_emulator_factory",
    "moengage_emulator_server",
    "moengage_emulator_settings",
    "settings_for",
]

# Fields of ``MoEngageSettings``; every other option of ``client_for`` goes to the client.
_SETTINGS_FIELDS = ("workspace_id", "data_api_key", "campaign_api_key", "dc", "base_url")


def _resolve(target: Emulator | EmulatorServer) -> tuple[Emulator, str | None]:
    """The emulator behind ``target`` and its server URL (None for in-process)."""
    url = getattr(target, "url", None)
    if url is None:
        return target, None  # type: ignore[return-value]
    return target.emulator, url  # type: ignore[union-attr]


def settings_for(target: Emulator | EmulatorServer, **changes: Any) -> MoEngageSettings:
    """The ``MoEngageSettings`` of an emulator's main workspace.

    Args:
        target: An ``Emulator`` (reached in-process: no ``base_url``) or an
            ``EmulatorServer`` (``base_url`` is its URL).
        **changes: Fields to change, e.g. ``campaign_api_key="wrong"``.
    """
    from moengage_pipelines.config import MoEngageSettings

    emulator, url = _resolve(target)
    settings = emulator.settings
    values: dict[str, Any] = {
        "workspace_id": settings.workspace_id,
        "data_api_key": settings.data_api_key,
        "campaign_api_key": settings.campaign_api_key,
        "dc": settings.dc,
        "base_url": url,
    }
    values.update(changes)
    return MoEngageSettings(**values)


def client_for(
    target: Emulator | EmulatorServer, *, clock: FakeClock | None = None, **options: Any
) -> MoEngageClient:
    """A ``MoEngageClient`` for an emulator (in-process transport) or a server (its URL).

    The client gets a rate budget of its own, in memory, with MoEngage's limits at the
    emulator's time scale: real pacing, nothing shared with other tests or processes.

    Args:
        target: An ``Emulator`` or an ``EmulatorServer``.
        clock: The time of the budget and of the retry waits. Defaults to the emulator's
            clock when that is a ``FakeClock``, so a client waiting for its budget or a 429
            moves the emulator's time instead of blocking.
        **options: ``MoEngageSettings`` fields to change (``campaign_api_key="wrong"``...)
            and ``MoEngageClient`` keyword arguments (``retry``, ``budget``, ``timeout``...).

    Returns:
        The client; close it (``with client_for(...) as client:``).
    """
    from moengage_pipelines.api.client import MoEngageClient
    from moengage_pipelines.api.ratebudget import MemoryBudgetStore, RateBudget, namespace_for
    from moengage_pipelines.api.retries import RetryConfig

    emulator, url = _resolve(target)
    changes = {name: options.pop(name) for name in _SETTINGS_FIELDS if name in options}
    settings = settings_for(target, **changes)
    time_scale = emulator.settings.time_scale
    if clock is None and isinstance(emulator.settings.clock, FakeClock):
        clock = emulator.settings.clock
    timing: dict[str, Any] = {} if clock is None else {"clock": clock, "sleep": clock.sleep}
    if "budget" not in options:
        options["budget"] = RateBudget(
            MemoryBudgetStore(), namespace=namespace_for(settings), time_scale=time_scale, **timing
        )
    if "retry" not in options and timing:
        options["retry"] = RetryConfig(time_scale=time_scale, **timing)
    if url is None:
        options.setdefault("transport", emulator.transport())
    return MoEngageClient(settings, **options)


@pytest.fixture
def moengage_clock() -> FakeClock:
    """A ``FakeClock`` at 2023-11-14 22:13:20 UTC; moves with ``advance`` or ``sleep``."""
    return FakeClock()


@pytest.fixture
def moengage_emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """``make(**settings)``: an emulator with those ``EmulatorSettings``, closed after the test."""
    from moengage_pipelines.emulator.core import Emulator
    from moengage_pipelines.emulator.settings import EmulatorSettings

    made: list[Emulator] = []

    def make(**settings: Any) -> Emulator:
        emulator = Emulator(EmulatorSettings(**settings))
        made.append(emulator)
        return emulator

    yield make
    for emulator in made:
        emulator.close()


@pytest.fixture
def moengage_emulator(moengage_emulator_factory: Callable[..., Emulator]) -> Emulator:
    """A fresh in-process emulator (in-memory state); ``.transport()`` for ``httpx``.

    Workspace ``TEST_WORKSPACE``, data key ``test-data-key``, campaign key
    ``test-campaign-key``; ``.inspect`` shows what it received.
    """
    return moengage_emulator_factory()


@pytest.fixture
def moengage_emulator_settings(moengage_emulator: Emulator) -> MoEngageSettings:
    """``MoEngageSettings`` for ``moengage_emulator`` (pair it with ``.transport()``)."""
    return settings_for(moengage_emulator)


@pytest.fixture
def moengage_emulator_server(moengage_emulator: Emulator) -> Iterator[EmulatorServer]:
    """``moengage_emulator`` behind a real uvicorn server on a free loopback port.

    Has ``.url`` (for ``MOENGAGE_BASE_URL`` or ``base_url``) and ``.emulator``.
    """
    from moengage_pipelines.emulator.server import EmulatorServer, serve

    with serve(moengage_emulator) as url:
        yield EmulatorServer(url, moengage_emulator)
