"""The delivery state's pure parts: destinations and resend decisions."""

from __future__ import annotations

import pytest

from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.push.ledger import Decision, Delivery, decide, destination_of


def _settings(**changes: str) -> MoEngageSettings:
    values = {"workspace_id": "WS1", "data_api_key": "key-1", "campaign_api_key": "c-1"}
    return MoEngageSettings(**{**values, **changes})


def test_a_destination_is_the_host_the_workspace_and_the_entity_never_a_key() -> None:
    base = destination_of(_settings(), "events")
    assert base == "https://api-01.moengage.com/WS1/events"
    assert destination_of(_settings(data_api_key="rotated"), "events") == base
    assert destination_of(_settings(workspace_id="WS2"), "events") != base
    assert destination_of(_settings(dc="02"), "events") != base
    assert destination_of(_settings(base_url="http://127.0.0.1:8765"), "events") != base
    assert destination_of(_settings(), "users") != base
    assert destination_of(_settings(), "catalog", "cat-9").endswith("/WS1/catalog/cat-9")
    with_password = _settings(base_url="http://user:Hunter2@127.0.0.1:8765")
    assert "Hunter2" not in destination_of(with_password, "events")


@pytest.mark.parametrize(
    ("policy", "known", "decision"),
    [
        ("ambiguous", None, Decision.SEND),
        ("ambiguous", Delivery.SENT, Decision.SKIP),
        ("ambiguous", Delivery.AMBIGUOUS, Decision.SEND),
        ("never", None, Decision.SEND),
        ("never", Delivery.SENT, Decision.SKIP),
        ("never", Delivery.AMBIGUOUS, Decision.HOLD),
        ("always", Delivery.SENT, Decision.SEND),
        ("always", Delivery.AMBIGUOUS, Decision.SEND),
    ],
)
def test_resend_decisions(policy, known, decision) -> None:
    assert decide(policy, known) is decision
