from __future__ import annotations

import orjson
import pytest

from moengage_pipelines.api.envelopes import body_reports_failure, error_message


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (
            {
                "status": "fail",
                "error": {
                    "type": "MissingAttributeError",
                    "attribute": "elements",
                    "message": "elements cannot be empty array",
                    "request_id": "ZbPXtKFL",
                },
            },
            "MissingAttributeError (elements): elements cannot be empty array",
        ),
        (
            {"error-code": "catalog-not-found", "message": "Catalog not found"},
            "catalog-not-found: Catalog not found",
        ),
        (
            {"title": "Invalid Field Value", "description": "app_key : None", "code": 400},
            "Invalid Field Value [400]: app_key : None",
        ),
        (
            {
                "error": {
                    "code": "400 Bad Request",
                    "message": "request_id key is mandatory field",
                    "details": [{"target": "request_id", "message": "missing"}],
                    "request_id": "x",
                }
            },
            "400 Bad Request: request_id key is mandatory field (request_id: missing)",
        ),
        (
            {
                "status": "fail",
                "title": "Rate limit exceeded",
                "description": "Exceeded rate limit",
            },
            "Rate limit exceeded: Exceeded rate limit",
        ),
        (
            {"status": "fail", "error_type": "NOT_FOUND", "message": "This import is deleted."},
            "NOT_FOUND: This import is deleted.",
        ),
    ],
)
def test_error_message_reads_each_family_envelope(document: dict, expected: str) -> None:
    assert error_message(orjson.dumps(document)) == expected


def test_error_message_falls_back_to_text_then_reason() -> None:
    assert error_message(b"<html>Bad   gateway</html>") == "<html>Bad gateway</html>"
    assert error_message(b"", reason="Service Unavailable") == "Service Unavailable"


def test_body_reports_failure_only_for_fail_status() -> None:
    assert body_reports_failure({"status": "fail", "error": {}})
    assert not body_reports_failure({"status": "success"})
    assert not body_reports_failure([{"status": "fail"}])
