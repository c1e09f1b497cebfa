"""A 2xx that is not MoEngage's JSON is ambiguous: retried like a lost answer, not taken as sent."""

from __future__ import annotations

import httpx
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import RequestTrace
from moengage_pipelines.api.retries import RetryConfig, is_ambiguous
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.errors import MoEngageHTTPError, UnexpectedAnswerError
from tests.api.support import (
    FAST_RETRY,
    TRANSPORTS,
    customer,
    emulated,
    event,
    settings,
    transition_body,
    transition_requests,
)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_html_page_is_retried_and_the_body_then_delivered(transport: str) -> None:
    with emulated(transport, retry=FAST_RETRY) as (emulator, client):
        emulator.faults.add(FaultRule(endpoint="transition", kind="garbled", count=2))
        trace = RequestTrace()
        answer = client.post_transition(
            transition_body([event("c1", "Bought")]).payload, users=0, events=1, trace=trace
        )
        stats = client.stats
        assert answer["status"] == "success"
        assert (trace.attempts, trace.ambiguous_retries) == (3, 2)
        assert stats.unexpected_answers == 2
        # The portal answered in MoEngage's place: nothing was applied until the third try.
        assert len(emulator.inspect.events(customer_id="c1")) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_html_page_after_applying_is_ambiguous_and_not_resent_when_told(
    transport: str,
) -> None:
    retry = RetryConfig(backoff_initial=0.001, retry_ambiguous=False)
    with emulated(transport, retry=retry) as (emulator, client):
        emulator.faults.add(FaultRule(endpoint="transition", kind="garbled", apply=True))
        with pytest.raises(UnexpectedAnswerError) as raised:
            client.post_transition(
                transition_body([event("c1", "Bought")]).payload, users=0, events=1
            )
        assert transition_requests(emulator) == 1
        # MoEngage did apply it: reporting the body as sent would have been a guess.
        assert len(emulator.inspect.events(customer_id="c1")) == 1
    error = raised.value
    assert isinstance(error, MoEngageHTTPError) and is_ambiguous(error)
    assert error.status == 200
    assert "text/html" in error.message and "Network login required" in error.message
    assert error.body.startswith("<!DOCTYPE html>")


def test_retried_html_pages_after_applying_duplicate_events_and_say_so() -> None:
    with emulated("in_process", retry=FAST_RETRY) as (emulator, client):
        emulator.faults.add(FaultRule(endpoint="transition", kind="garbled", apply=True, count=1))
        trace = RequestTrace()
        client.post_transition(
            transition_body([event("c1", "Bought")]).payload, users=0, events=1, trace=trace
        )
        assert trace.ambiguous_retries == 1
        assert len(emulator.inspect.events(customer_id="c1")) == 2


def test_catalog_item_answers_must_be_json_objects() -> None:
    with emulated("in_process", retry=FAST_RETRY) as (emulator, client):
        catalog_id = client.create_catalog(
            "products",
            price_currency="USD",
            attributes=[
                {"name": n, "type": "string"} for n in ("id", "title", "link", "image_link")
            ],
        )
        emulator.faults.add(FaultRule(endpoint="catalog_items_add", kind="garbled"))
        item = {"id": "p1", "title": "P", "link": "https://x/p", "image_link": "https://x/i"}
        with pytest.raises(UnexpectedAnswerError):
            client.add_catalog_items(catalog_id, [item])
        assert client.stats.unexpected_answers == FAST_RETRY.max_attempts


def _answering(status: int, content: bytes, content_type: str) -> httpx.MockTransport:
    """A server that is not MoEngage (the emulator always answers MoEngage's JSON)."""
    return httpx.MockTransport(
        lambda request: httpx.Response(
            status, content=content, headers={"content-type": content_type}
        )
    )


@pytest.mark.parametrize(
    ("content", "content_type", "why"),
    [
        (b"", "text/plain", "an empty body"),
        (b"OK", "text/plain", "a text/plain body: 'OK'"),
        (b'["accepted"]', "application/json", "a JSON list, not an object"),
    ],
)
def test_a_bulk_import_answer_that_is_not_a_json_object_is_unexpected(
    content: bytes, content_type: str, why: str
) -> None:
    retry = RetryConfig(max_attempts=2, backoff_initial=0.001)
    with (
        MoEngageClient(
            settings(), transport=_answering(200, content, content_type), retry=retry
        ) as client,
        pytest.raises(UnexpectedAnswerError) as raised,
    ):
        client.post_transition(transition_body([customer("c1")]).payload, users=1, events=0)
    assert why in raised.value.message
    assert client.stats.requests == 2 and client.stats.ambiguous_retries == 1


def test_campaign_search_may_answer_a_json_array() -> None:
    with MoEngageClient(
        settings(),
        transport=_answering(200, b'[{"campaign_id": "x"}]', "application/json"),
        retry=FAST_RETRY,
    ) as client:
        assert client.search_campaigns({"limit": 1, "page": 1}) == [{"campaign_id": "x"}]
