"""Replay the requests real integrations send (``data/real-world-requests.json``).

Each request keeps its method, host, path, query and headers; only the workspace id and the
API key are replaced by the test credentials. Every one must be accepted and every element
stored, except the entry marked "LIKELY INVALID", which must be rejected or dropped with a
reason the inspection API shows.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from moengage_pipelines.emulator import Emulator, EmulatorSettings

DATA = Path(__file__).parent / "data" / "real-world-requests.json"
ENTRIES: list[dict[str, Any]] = json.loads(DATA.read_text(encoding="utf-8"))
WORKSPACE = "TEST_WORKSPACE"
DATA_KEY = "test-data-key"
PLACEHOLDER_AUTH = "Basic " + base64.b64encode(b"WORKSPACE_ID:API_KEY").decode()


def _entry_id(index: int, entry: dict[str, Any]) -> str:
    return f"{index:02d}-{entry['source'].split('/')[0]}-{entry['path'].split('/')[2]}"


def _likely_invalid(entry: dict[str, Any]) -> bool:
    return entry.get("note", "").startswith("LIKELY INVALID")


def _elements(entry: dict[str, Any]) -> list[dict[str, Any]]:
    body = entry["body"]
    return body["elements"] if body.get("type") == "transition" else [body]


def _replay(emulator: Emulator, entry: dict[str, Any]) -> httpx.Response:
    headers = dict(entry["headers"])
    assert headers["Authorization"] == PLACEHOLDER_AUTH  # the file's placeholder credentials
    headers["Authorization"] = (
        "Basic " + base64.b64encode(f"{WORKSPACE}:{DATA_KEY}".encode()).decode()
    )
    if "MOE-APPKEY" in headers:
        headers["MOE-APPKEY"] = WORKSPACE
    path = entry["path"].replace("WORKSPACE_ID", WORKSPACE)
    with httpx.Client(transport=emulator.transport()) as client:
        return client.request(
            entry["method"],
            f"https://{entry['host']}{path}",
            headers=headers,
            content=orjson.dumps(entry["body"]),  # compact, key order kept, as the clients send
        )


def _existing_users(emulator: Emulator, entry: dict[str, Any]) -> None:
    """Create the users a device or merge needs (devices and merges need existing users)."""
    body = entry["body"]
    needed = [
        p[side] for p in body.get("merge_data", ()) for side in ("merged_user", "retained_user")
    ]
    created = {e.get("customer_id") for e in _elements(entry) if e.get("type") == "customer"}
    needed += [
        e["customer_id"]
        for e in _elements(entry)
        if e.get("type") == "device" and e.get("customer_id") not in created
    ]
    if not needed:
        return
    elements = [
        {"type": "customer", "customer_id": c, "attributes": {"seeded": True}} for c in needed
    ]
    with httpx.Client(
        transport=emulator.transport(),
        base_url=f"https://{entry['host']}",
        auth=(WORKSPACE, DATA_KEY),
    ) as client:
        answer = client.post(
            f"/v1/transition/{WORKSPACE}", json={"type": "transition", "elements": elements}
        )
    assert answer.status_code == 200


def _dropped(emulator: Emulator, request_id: str | None) -> list[dict[str, Any]]:
    return [
        d for d in emulator.inspect.dropped() if request_id is None or d["request_id"] == request_id
    ]


def _attribute_dropped(drops: list[dict[str, Any]], name: str, value: Any) -> bool:
    return any(d["kind"] == "attribute" and d["element"] == {name: value} for d in drops)


def _check_customer(emulator: Emulator, element: dict[str, Any], drops: list) -> None:
    user = emulator.inspect.user(element["customer_id"])
    assert user is not None, f"customer {element['customer_id']} not stored"
    for name, value in element.get("attributes", {}).items():
        if name == "platforms":
            for entry in value:
                assert user["platforms"][entry["platform"]] == entry["active"]
            continue
        stored = user["attributes"].get(name, object())
        assert stored == value or _attribute_dropped(drops, name, value), (
            f"attribute {name!r} of {element['customer_id']} neither stored nor dropped"
        )


def _check_event(element: dict[str, Any], stored: list[dict[str, Any]], drops: list) -> None:
    """``stored``: this request's events of the element's customer not yet matched (consumed)."""
    mine = [stored.pop(0) for _ in element["actions"] if stored]
    assert [e["action"] for e in mine] == [a["action"] for a in element["actions"]]
    for action, event in zip(element["actions"], mine, strict=True):
        for name, value in action.get("attributes", {}).items():
            assert event["attributes"].get(name, object()) == value or _attribute_dropped(
                drops, name, value
            ), f"event attribute {name!r} neither stored nor dropped"


def _check_device(emulator: Emulator, element: dict[str, Any], drops: list) -> None:
    device = emulator.inspect.devices().get(element["device_id"])
    assert device is not None and device["customer_id"] == element["customer_id"]
    for name, value in element["attributes"].items():
        assert device["attributes"].get(name, object()) == value or _attribute_dropped(
            drops, name, value
        ), f"device attribute {name!r} neither stored nor dropped"


def test_the_collection_has_one_likely_invalid_entry():
    assert len(ENTRIES) == 26
    assert sum(_likely_invalid(entry) for entry in ENTRIES) == 1


@pytest.mark.parametrize(
    "entry",
    [e for e in ENTRIES if not _likely_invalid(e)],
    ids=[_entry_id(i, e) for i, e in enumerate(ENTRIES) if not _likely_invalid(e)],
)
def test_real_world_request_is_accepted_and_stored(entry):
    dc = entry["host"].split(".")[0].removeprefix("api-")
    with Emulator(EmulatorSettings(dc=dc)) as emulator:
        _existing_users(emulator, entry)
        answer = _replay(emulator, entry)
        assert answer.status_code == 200, answer.text
        document = answer.json()
        assert document["status"] == "success"
        if "merge_data" in entry["body"]:
            assert emulator.inspect.merges() == [
                {"merged_user": p["merged_user"], "retained_user": p["retained_user"]}
                for p in entry["body"]["merge_data"]
            ]
            assert _dropped(emulator, None) == []
            return
        request_id = document["request_id"]
        drops = _dropped(emulator, request_id)
        # Only single attributes may be dropped: never a whole element or action.
        assert {d["kind"] for d in drops} <= {"attribute"}, drops
        events: dict[str, list[dict[str, Any]]] = {}
        for event in emulator.inspect.events():
            if event["request_id"] == request_id:
                events.setdefault(event["customer_id"], []).append(event)
        for element in _elements(entry):
            if element["type"] == "customer":
                _check_customer(emulator, element, drops)
            elif element["type"] == "event":
                _check_event(element, events.get(element["customer_id"], []), drops)
            else:
                _check_device(emulator, element, drops)
        assert not any(events.values()), "events stored that the request did not send"


def test_the_likely_invalid_entry_is_dropped_with_a_visible_reason():
    [entry] = [e for e in ENTRIES if _likely_invalid(e)]
    dc = entry["host"].split(".")[0].removeprefix("api-")
    with Emulator(EmulatorSettings(dc=dc)) as emulator:
        _existing_users(emulator, entry)
        answer = _replay(emulator, entry)
        with httpx.Client(transport=emulator.transport(), base_url="http://emulator") as plain:
            dropped = plain.get("/_emulator/dropped").json()
        devices = emulator.inspect.devices()
    if answer.status_code == 400:  # rejected: the error names the missing field
        assert "device_id" in answer.text
        return
    assert answer.status_code == 200
    assert devices == {}
    [drop] = [d for d in dropped if d["request_id"] == answer.json()["request_id"]]
    assert drop["kind"] == "element" and "device_id" in drop["reason"]
    assert drop["element"] == entry["body"]["elements"][0]
