"""The pytest plugin shipped with the package, run the way a user's test suite runs it.

The users' suites run in a subprocess: a fresh interpreter that finds the plugin through its
entry point, as an installed package's users do.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import orjson
import pytest

import moengage_pipelines.emulator as emulator_package
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.pytest_plugin import client_for, settings_for
from moengage_pipelines.emulator.server import serve
from moengage_pipelines.errors import AuthError
from tests.emulator.conftest import transition

# A user's tests: they push through MoEngageClient and assert on what the emulator received.
USER_SYNC_TESTS = """
import orjson

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.emulator.pytest_plugin import client_for


def body(*customer_ids):
    elements = [
        {"type": "customer", "customer_id": c, "attributes": {"plan": "gold"}}
        for c in customer_ids
    ]
    return orjson.dumps({"type": "transition", "elements": elements})


def test_in_process(moengage_emulator):
    with client_for(moengage_emulator) as client:
        answer = client.post_transition(body("u-1", "u-2"), users=2, events=0)
    assert answer["status"] == "success"
    assert moengage_emulator.inspect.users() == {"u-1": {"plan": "gold"}, "u-2": {"plan": "gold"}}


def test_each_test_gets_a_fresh_emulator(moengage_emulator):
    assert moengage_emulator.inspect.users() == {}


def test_settings_for_the_in_process_transport(moengage_emulator, moengage_emulator_settings):
    with MoEngageClient(
        moengage_emulator_settings, transport=moengage_emulator.transport()
    ) as client:
        client.post_transition(body("u-4"), users=1, events=0)
    assert list(moengage_emulator.inspect.users()) == ["u-4"]


def test_over_loopback(moengage_emulator_server):
    assert moengage_emulator_server.url.startswith("http://127.0.0.1:")
    with client_for(moengage_emulator_server) as client:
        client.post_transition(body("u-3"), users=1, events=0)
    assert list(moengage_emulator_server.emulator.inspect.users()) == ["u-3"]


def test_silently_dropped_elements_are_shown(moengage_emulator):
    with client_for(moengage_emulator) as client:
        answer = client.post_transition(body("unknown"), users=1, events=0)
    assert answer["status"] == "success"  # MoEngage answers 200 ...
    (dropped,) = moengage_emulator.inspect.dropped()  # ... and drops the banned id
    assert dropped["reason"] == "customer_id is a value MoEngage refuses"


def test_a_wrong_expectation_fails(moengage_emulator):
    with client_for(moengage_emulator) as client:
        client.post_transition(body("u-5"), users=1, events=0)
    assert moengage_emulator.inspect.users() == {}
"""

# A user's test of rate limiting: the client waits for the 429's reset on the fake clock.
USER_RATE_LIMIT_TEST = """
import orjson

from moengage_pipelines.emulator import RateLimit
from moengage_pipelines.emulator.pytest_plugin import client_for


def body(customer_id):
    element = {"type": "customer", "customer_id": customer_id, "attributes": {}}
    return orjson.dumps({"type": "transition", "elements": [element]})


def test_a_429_waits_for_the_next_window_on_the_fake_clock(
    moengage_emulator_factory, moengage_clock
):
    emulator = moengage_emulator_factory(
        clock=moengage_clock, rate_limits={"transition_users": (RateLimit(2, 60),)}
    )
    next_window = (moengage_clock() // 60 + 1) * 60
    with client_for(emulator) as client:
        for customer_id in ("u-1", "u-2", "u-3"):
            client.post_transition(body(customer_id), users=1, events=0)
    assert sorted(emulator.inspect.users()) == ["u-1", "u-2", "u-3"]
    assert emulator.inspect.counters()["transition"]["429"] == 1
    # The client slept on the emulator's clock until its window ended, without blocking.
    assert moengage_clock.sleeps and moengage_clock() >= next_window
"""


def test_a_users_sync_tests_run_against_the_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_sync=USER_SYNC_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, failed=1)
    # The failing user assertion shows what the emulator received.
    result.stdout.fnmatch_lines(["*test_a_wrong_expectation_fails*", "*u-5*"])


def test_the_fake_clock_moves_the_emulators_rate_windows(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user_rate_limits=USER_RATE_LIMIT_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_the_fixtures_are_listed_for_users(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "*moengage_clock*",
            "*moengage_emulator_factory*",
            "*moengage_emulator -- *",
            "*moengage_emulator_settings*",
            "*moengage_emulator_server*",
        ],
        consecutive=False,
    )


def test_the_plugin_is_registered_as_a_pytest_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="pytest11")}
    assert plugins["moengage_emulator"] == "moengage_pipelines.emulator.pytest_plugin"


def test_importing_the_plugin_loads_nothing_heavy() -> None:
    heavy = (
        "moengage_pipelines.emulator.core",
        "moengage_pipelines.emulator.server",
        "moengage_pipelines.emulator.store",
        "moengage_pipelines.api",
        "moengage_pipelines.config",
        "uvicorn",
        "httpx",
        "pydantic",
    )
    code = (
        "import sys\n"
        "import moengage_pipelines.emulator.pytest_plugin\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_every_public_name_of_the_package_resolves_to_its_defining_module() -> None:
    assert all(getattr(emulator_package, name) is not None for name in emulator_package.__all__)
    assert emulator_package.Emulator is Emulator
    assert emulator_package.FakeClock is FakeClock
    assert emulator_package.serve is serve
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = emulator_package.Nope


def test_settings_for_names_the_server_url_only_for_a_server(
    moengage_emulator, moengage_emulator_server
) -> None:
    in_process = settings_for(moengage_emulator)
    served = settings_for(moengage_emulator_server, campaign_api_key="other-key")
    assert in_process.base_url is None
    assert in_process.workspace_id == moengage_emulator.settings.workspace_id
    assert served.base_url == moengage_emulator_server.url
    assert served.key("campaign") == "other-key"
    assert served.key("data") == moengage_emulator.settings.data_api_key


def test_client_for_takes_settings_changes_and_client_options(moengage_emulator) -> None:
    body = orjson.dumps(transition({"type": "customer", "customer_id": "u-1", "attributes": {}}))
    with (
        client_for(moengage_emulator, data_api_key="wrong", timeout=5.0) as client,
        pytest.raises(AuthError),
    ):
        client.post_transition(body, users=1, events=0)
    with client_for(moengage_emulator) as client:
        client.post_transition(body, users=1, events=0)
    assert list(moengage_emulator.inspect.users()) == ["u-1"]
    assert moengage_emulator.inspect.counters()["transition"]["401"] == 1


def test_client_for_budgets_are_not_shared(moengage_emulator) -> None:
    with client_for(moengage_emulator) as first, client_for(moengage_emulator) as second:
        assert first.budget is not second.budget
        assert first.budget.store is not second.budget.store
