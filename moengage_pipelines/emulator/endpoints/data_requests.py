"""What every Data API handler reads and answers: the JSON object, missing fields, bounded lists."""

from __future__ import annotations

from typing import Any

from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.http import ApiError, Response

__all__ = ["ACCEPTED_MESSAGE", "accepted", "bounded_list", "json_object", "missing"]

ACCEPTED_MESSAGE = "Your request has been accepted and will be processed soon."


def accepted(call: Call) -> Response:
    """The Data APIs' 200: the request "has been accepted and will be processed soon"."""
    return call.ok(
        {"status": "success", "message": ACCEPTED_MESSAGE, "request_id": call.request_id}
    )


def json_object(call: Call) -> dict[str, Any]:
    """The body, which must be a JSON object (else 400 "Body type is not JSON")."""
    document = call.json()
    if not isinstance(document, dict):
        raise call.refuse("body_not_json")
    return document


def missing(call: Call, attribute: str, message: str | None = None) -> ApiError:
    """The Data APIs' 400 ``MissingAttributeError`` for a field that is absent or ill-typed."""
    message = message or f"{attribute} is not found in the payload"
    return call.fail(400, message, type="MissingAttributeError", attribute=attribute)


def bounded_list(
    call: Call, container: dict[str, Any], name: str, maximum: int, limit_attribute: str
) -> list[Any]:
    """A field that must be a non-empty list of at most ``maximum`` entries."""
    value = container.get(name)
    if value is None:
        raise missing(call, name)
    if not isinstance(value, list) or not value:
        raise missing(call, name, f"{name} is expected to be a non-empty List")
    if len(value) > maximum:
        raise call.fail(
            400, f"max limit allowed is {maximum}", type="LimitBreached", attribute=limit_attribute
        )
    return value
