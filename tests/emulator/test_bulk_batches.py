"""Large bulk bodies: every element kept in order, every check still applied on the fast paths."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.timeparse import event_epoch
from tests.emulator.conftest import WORKSPACE, action, customer, event, transition

BULK = f"/v1/transition/{WORKSPACE}"
NOW = datetime(2025, 3, 10, 12, tzinfo=UTC).timestamp()


@pytest.fixture
def moengage_emulator(moengage_emulator_factory):
    return moengage_emulator_factory(clock=FakeClock(NOW))


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_a_large_body_keeps_every_element_in_order(moengage_emulator, data):
    elements = []
    sent = []
    for number in range(53):
        user = f"user-{number % 20:02d}"  # repeated users: created once
        name = f"Action {number}"
        elements.append(event(user, action(name, current_time=f"2025-03-0{1 + number % 9}")))
        sent.append((user, name))
    for number in range(37):
        elements.append(customer(f"user-{number % 25:02d}", tier=number))  # the last one wins
    device = {"type": "device", "customer_id": "user-00", "device_id": "d-1"}
    for number in range(19):
        elements.append({**device, "attributes": {"platform": "ANDROID", "push_id": f"p{number}"}})
    elements += [event("null", action("Refused"))] * 21  # a banned id: dropped each time
    answer = data.post(BULK, json=transition(*elements))
    assert answer.status_code == 200
    events = moengage_emulator.inspect.events()
    assert [(e["customer_id"], e["action"]) for e in events] == sent
    assert [e["day"] for e in events][:10] == [f"2025-03-0{1 + n % 9}" for n in range(10)]
    users = moengage_emulator.inspect.users()
    assert sorted(users) == [f"user-{n:02d}" for n in range(25)]
    assert users["user-03"] == {"tier": 28} and users["user-24"] == {"tier": 24}
    assert moengage_emulator.inspect.devices()["d-1"]["attributes"]["push_id"] == "p18"
    dropped = moengage_emulator.inspect.dropped()
    assert [d["index"] for d in dropped] == list(range(109, 130))
    assert {d["reason"] for d in dropped} == {"customer_id is a value MoEngage refuses"}
    assert moengage_emulator.inspect.summary() == {
        "users": 25,
        "events": 53,
        "devices": 1,
        "dropped": 21,
        "merges": 0,
        "deletions": 0,
    }


def test_moengage_ids_start_with_the_creation_second(moengage_emulator, data):
    data.post(BULK, json=transition(customer("user-1"), event("user-2", action("Opened"))))
    for customer_id in ("user-1", "user-2"):
        moengage_id = moengage_emulator.inspect.user(customer_id)["moengage_id"]
        assert re.fullmatch(r"[0-9a-f]{24}", moengage_id)
        assert int(moengage_id[:8], 16) == int(NOW)
    assert (
        moengage_emulator.inspect.user("user-1")["moengage_id"]
        != (moengage_emulator.inspect.user("user-2")["moengage_id"])
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-11-05T10:00:00Z", epoch("2024-11-05T10:00:00+00:00")),
        (" 2024-11-05T10:00:00.250+05:30 ", epoch("2024-11-05T10:00:00.250+05:30")),
        ("2024-11-05", epoch("2024-11-05T00:00:00+00:00")),
        ("2024-11-05 10:00:00", epoch("2024-11-05T10:00:00+00:00")),  # no offset: UTC
        ("2024-13-01T00:00:00Z", None),  # shaped like a date, but no such month
        ("2024-11-05Tnoon", None),
        ("1.23e-00001", 0.123),  # a number with "-" fifth is still a number
        ("1708939453", 1_708_939_453.0),
        ("1708939453396", 1_708_939_453.396),
        (1_708_939_453, 1_708_939_453.0),
        ("nan", None),
        ("", None),
        (True, None),
    ],
)
def test_event_times_are_read_whatever_path_they_take(value, expected):
    found = event_epoch(value)
    assert found == (pytest.approx(expected) if expected is not None else None)


def test_non_string_and_blank_customer_ids_in_events_still_get_the_full_check(
    moengage_emulator, data
):
    assert data.post(BULK, json=transition(event(12345, action("Opened")))).status_code == 200
    assert moengage_emulator.inspect.events()[0]["customer_id"] == "12345"
    blank = data.post(BULK, json=transition(event("  ", action("Opened"))))
    assert blank.status_code == 400
    assert blank.json()["error"]["message"] == "customer_id can not be empty Unicode String"
    flag = data.post(BULK, json=transition(event(True, action("Opened"))))
    assert flag.status_code == 400
    assert flag.json()["error"]["attribute"] == "customer_id"
    assert len(moengage_emulator.inspect.events()) == 1
