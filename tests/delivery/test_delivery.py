"""deliver() against the emulator: concurrency, 413 splits, failures, bounded read-ahead.

The refusals MoEngage answers (413, 400, 401) are tested both in-process and against the
emulator served on a real loopback socket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import partial

import orjson
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import RateBudget, Window
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.emulator.core import Emulator
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.pytest_plugin import client_for as emulator_client_for
from moengage_pipelines.emulator.settings import EmulatorSettings
from moengage_pipelines.push.catalog.upsert import CatalogUpsertSender
from moengage_pipelines.push.pack.body import Body
from moengage_pipelines.push.send import (
    BodyOutcome,
    DeliveryResult,
    Outcome,
    TransitionSender,
    deliver,
)
from tests.api.support import (
    TRANSPORTS,
    customer,
    emulated,
    event,
    running,
    settings,
    transition_body,
    user_bodies,
)

FAST_RETRY = RetryConfig(backoff_initial=0.001, jitter=0.0, max_attempts=6, max_elapsed=30)


client_for = partial(emulator_client_for, retry=FAST_RETRY)


class Counting:
    """Wraps a body stream, counting how many bodies were read."""

    def __init__(self, bodies: Iterable[Body]) -> None:
        self._bodies = bodies
        self.read = 0

    def __iter__(self) -> Iterator[Body]:
        for body in self._bodies:
            self.read += 1
            yield body


def test_delivers_every_body_concurrently() -> None:
    with Emulator(EmulatorSettings()) as emulator, client_for(emulator) as client:
        bodies = list(user_bodies(40, 25))
        mixed = transition_body([event("u0", "Bought", "Viewed")], first_row=1000)
        result = deliver([*bodies, mixed], TransitionSender(client), concurrency=4)
        users = emulator.inspect.users()
        events = emulator.inspect.events()
    assert result.ok
    assert result.bodies_sent == 41
    assert result.users_sent == 1000 and result.events_sent == 2
    assert result.bytes_sent == sum(b.size for b in bodies) + mixed.size
    assert len(users) == 1000 and len(events) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_413_splits_the_body_until_the_halves_fit(transport: str) -> None:
    emulator_settings = EmulatorSettings(transition_max_bytes=2_000)
    elements = [customer(f"c{i}", note="x" * 100) for i in range(40)]
    oversized = customer("huge", note="y" * 3_000)
    body = transition_body([*elements[:20], oversized, *elements[20:]], first_row=100)
    with emulated(transport, emulator_settings, retry=FAST_RETRY) as (emulator, client):
        result = deliver([body], TransitionSender(client))
        users = emulator.inspect.users()
        too_large = emulator.inspect.counters()["transition"]["413"]
    assert result.splits_413 >= 3
    # every split came from a 413 the server answered, plus the one element that never fits
    assert too_large == result.splits_413 + 1
    assert result.users_sent == 40 and set(users) == {f"c{i}" for i in range(40)}
    # the element too large on its own is the one failure, found at its row
    assert len(result.failures) == 1
    failure = result.failures[0]
    assert (failure.first_row, failure.elements, failure.status) == (120, 1, 413)
    assert "single element is too large" in failure.message
    assert not result.ok


def test_a_body_heavier_than_a_rate_window_is_split() -> None:
    budget = RateBudget.from_url(
        "memory://",
        namespace="ws",
        time_scale=600.0,  # the halves need not wait a real minute for each other
        limits={"transition_users": [Window.per_minute(30)]},
    )
    with Emulator(EmulatorSettings()) as emulator, client_for(emulator, budget=budget) as client:
        result = deliver(user_bodies(1, 50), TransitionSender(client))
        assert len(emulator.inspect.users()) == 50
    assert result.splits_budget == 1 and result.bodies_sent == 2 and result.ok


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_refused_bodies_are_recorded_and_the_rest_delivered(transport: str) -> None:
    # One element MoEngage refuses: that body fails, the others go on.
    bad_element = {"type": "bogus", "customer_id": "x"}
    bad = Body(
        "transition", orjson.dumps({"type": "transition", "elements": [bad_element]}),
        first_row=25,
    )
    bodies = [*user_bodies(1, 25), bad, *user_bodies(2, 25, prefix="v")]
    with emulated(transport, retry=FAST_RETRY) as (emulator, client):
        result = deliver(bodies, TransitionSender(client), concurrency=2)
        assert len(emulator.inspect.users()) == 75
        # the 400 was sent once: refusals are not retried
        assert emulator.inspect.counters()["transition"]["requests"] == 4
    assert result.bodies_sent == 3 and not result.stopped and result.retries == 0
    [failure] = result.failures
    assert (failure.first_row, failure.status) == (25, 400)
    assert "type in elements should be customer/event/device" in failure.message


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_refused_request_format_stops_delivery(transport: str) -> None:
    # An empty bulk import is refused as a request, not as data: every body built the same way
    # would be refused too, so delivery stops and counts what it did not send.
    bad = Body("transition", orjson.dumps({"type": "transition", "elements": []}), first_row=25)
    stream = Counting([bad, *user_bodies(50, 25)])
    with emulated(transport, retry=FAST_RETRY) as (_, client):
        result = deliver(stream, TransitionSender(client), concurrency=1, max_in_flight=2)
    assert result.stopped and "elements cannot be empty" in result.stop_reason
    assert [failure.first_row for failure in result.failures] == [25]
    assert stream.read <= 4


def test_fail_fast_stops_reading_bodies() -> None:
    bad = Body("transition", orjson.dumps({"type": "transition", "elements": []}), first_row=0)
    stream = Counting([bad, *user_bodies(200, 5)])
    with Emulator(EmulatorSettings()) as emulator, client_for(emulator) as client:
        result = deliver(
            stream, TransitionSender(client), concurrency=1, fail_fast=True, max_in_flight=2
        )
    assert result.stopped and len(result.failures) == 1
    assert stream.read <= 4
    assert result.bodies_sent < 200


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize(
    ("data_api_key", "status", "message"),
    [
        ("not-the-key", 401, "App Secret key mismatch"),
        ("test-campaign-key", 403, "does not have access to this API"),
    ],
)
def test_auth_failure_stops_the_run_even_without_fail_fast(
    transport: str, data_api_key: str, status: int, message: str
) -> None:
    stream = Counting(user_bodies(100, 5))
    wrong = {"data_api_key": data_api_key}
    with emulated(transport, credentials=wrong, retry=FAST_RETRY) as (emulator, client):
        result = deliver(stream, TransitionSender(client), concurrency=2, max_in_flight=2)
        requests = emulator.inspect.counters()["transition"]["requests"]
    assert result.stopped and result.bodies_sent == 0 and result.retries == 0
    assert {failure.status for failure in result.failures} == {status}
    assert all(message in failure.message for failure in result.failures)
    assert all(data_api_key not in failure.message for failure in result.failures)
    # only the bodies already in flight were sent, each once
    assert requests == len(result.failures) <= 2
    assert stream.read < 100


def test_read_ahead_is_bounded() -> None:
    stream = Counting(user_bodies(300, 2))
    worst: list[int] = []

    def progress(result: DeliveryResult) -> None:
        worst.append(stream.read - result.bodies_sent - len(result.failures))

    with Emulator(EmulatorSettings()) as emulator, client_for(emulator) as client:
        result = deliver(
            stream, TransitionSender(client), concurrency=3, on_progress=progress,
            max_in_flight=5,
        )
    assert result.bodies_sent == 300 and len(worst) == 300
    assert max(worst) <= 5


def test_5xx_share_is_retried_and_nothing_is_lost_or_doubled() -> None:
    faults = (FaultRule(endpoint="transition", kind="error", status=503, rate=0.3),)
    with (
        Emulator(EmulatorSettings(faults=faults, fault_seed=7)) as emulator,
        client_for(emulator) as client,
    ):
        result = deliver(user_bodies(30, 10), TransitionSender(client), concurrency=4)
        users = emulator.inspect.users()
        requests = emulator.inspect.counters()["transition"]
    assert result.ok and result.retries > 0
    assert result.retries == requests["5xx"]
    assert len(users) == 300 and result.ambiguous_retries == 0


def test_reset_after_apply_reports_the_rows_that_may_be_duplicated() -> None:
    faults = (FaultRule(endpoint="transition", kind="reset", count=1, after=3),)
    bodies = [
        transition_body([event(f"c{index}", "Bought")], first_row=index) for index in range(8)
    ]
    with (
        running(EmulatorSettings(faults=faults)) as (emulator, url),
        MoEngageClient(settings(url), retry=FAST_RETRY, budget=RateBudget.unlimited()) as client,
    ):
        result = deliver(bodies, TransitionSender(client), concurrency=2)
        events = emulator.inspect.events()
    assert result.ok and result.ambiguous_retries == 1
    [row] = result.ambiguous_rows
    # exactly the body whose answer was lost arrived twice
    counts = {f"c{i}": sum(1 for e in events if e["customer_id"] == f"c{i}") for i in range(8)}
    assert counts[f"c{row}"] == 2
    assert sum(counts.values()) == 9


def test_catalog_bodies_go_to_the_catalog_and_invalid_items_are_counted() -> None:
    mandatory = [{"name": n, "type": "string"} for n in ("id", "title", "link", "image_link")]

    def item(i: int) -> dict:
        return {"id": f"p{i}", "title": "t", "link": "https://x", "image_link": "https://i"}

    items = [item(i) for i in range(10)] + [{"id": "bad"}]
    payload = orjson.dumps({"items": items})
    body = Body("catalog_items", payload, items=len(items), first_row=0)
    with Emulator(EmulatorSettings()) as emulator, client_for(emulator) as client:
        catalog_id = client.create_catalog("shop", price_currency="USD", attributes=mandatory)
        with pytest.raises(ValueError, match="not a bulk import"):
            deliver([body], TransitionSender(client))
        outcomes: list[BodyOutcome] = []
        result = deliver(
            [body], CatalogUpsertSender(client, catalog_id), on_outcome=outcomes.append
        )
        found = client.search_catalog_items(catalog_id, [f"p{i}" for i in range(10)])
    assert result.items_sent == 11 and result.ok
    [outcome] = outcomes
    assert outcome.outcome is Outcome.SENT and outcome.refused == 1
    assert list(outcome.answer.added.refused) == ["bad"] and outcome.body.first_row == 0
    assert len(found) == 10
