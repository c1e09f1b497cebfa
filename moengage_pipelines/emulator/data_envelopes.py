"""The Data APIs' error shape, and the Merge Users reference's own wording of it."""

from __future__ import annotations

from dataclasses import dataclass

from moengage_pipelines.emulator.envelope_base import (
    ACCOUNT_ANSWERS,
    SECRET_NOT_SET,
    STATUS_TITLES,
    Envelope,
)
from moengage_pipelines.emulator.http import Response, json_response

__all__ = ["DataEnvelope", "MergeEnvelope"]


@dataclass(frozen=True)
class DataEnvelope(Envelope):
    """``{"status":"fail","error":{"attribute"?, "message", "type", "request_id"}}``.

    The 429 wording differs per endpoint (Track User vs Track Event), Delete User answers 429
    and 5xx as ``{"status":"fail","title","description"}``, and some references word the
    account and app id errors their own way; the fields select them.

    Attributes:
        account_answers: ``(state, status, type, message)`` entries replacing those of
            ``ACCOUNT_ANSWERS`` for this endpoint.
        invalid_app_id_answer: ``(status, message)`` for an app id that is no workspace.
    """

    name: str = "data"
    rate_limit_message: str = "Rate limit exceeded"
    rate_limit_type: str = "RateLimitError"
    unsupported_message: str = "Unsupported Media Type"
    unsupported_type: str = "MediaTypeError"
    title_style_throttling: bool = False
    account_answers: tuple[tuple[str, int, str, str], ...] = ()
    invalid_app_id_answer: tuple[int, str] = (400, "Given app_id is invalid.")

    def error(
        self,
        status: int,
        message: str,
        request_id: str,
        *,
        type: str | None = None,
        attribute: str | None = None,
        headers: tuple[tuple[str, str], ...] = (),
    ) -> Response:
        """``{"status": "fail", "error": {...}}``; ``type`` defaults to the status's title."""
        error: dict[str, str] = {}
        if attribute is not None:
            error["attribute"] = attribute
        error["message"] = message
        error["type"] = type or STATUS_TITLES.get(status, "Error")
        error["request_id"] = request_id
        return json_response(status, {"status": "fail", "error": error}, headers)

    def content_type_unsupported(self, request_id: str) -> Response:
        """415 in this endpoint's wording."""
        return self.error(415, self.unsupported_message, request_id, type=self.unsupported_type)

    def invalid_app_id(self, request_id: str) -> Response:
        """``InvalidParams`` with this endpoint's status and wording."""
        status, message = self.invalid_app_id_answer
        return self.error(status, message, request_id, type="InvalidParams")

    def account_refused(self, request_id: str, state: str) -> Response:
        """The documented answer: 400 ``Blacklisted``, 403 ``Account Suspended``..."""
        overrides = {entry[0]: entry[1:] for entry in self.account_answers}
        status, kind, message = overrides.get(state, ACCOUNT_ANSWERS[state])
        return self.error(status, message, request_id, type=kind)

    def rate_limited(self, request_id: str, headers: tuple[tuple[str, str], ...]) -> Response:
        """429 in this endpoint's wording (Delete User: ``title``/``description``)."""
        if self.title_style_throttling:
            body = {
                "status": "fail",
                "title": "Rate limit exceeded",
                "description": "Exceeded rate limit for this url",
            }
            return json_response(429, body, headers)
        return self.error(
            429, self.rate_limit_message, request_id, type=self.rate_limit_type, headers=headers
        )

    def server_error(self, request_id: str, status: int = 500) -> Response:
        """5xx (Delete User: ``{"status","title","description"}``)."""
        if self.title_style_throttling:
            body = {
                "status": "fail",
                "title": "Internal Error",
                "description": "Please contact the MoEngage team.",
            }
            return json_response(status, body)
        return super().server_error(request_id, status)


@dataclass(frozen=True)
class MergeEnvelope(DataEnvelope):
    """Merge Users: the Data APIs' shape, with the wording of the Merge Users reference."""

    name: str = "merge"
    account_answers: tuple[tuple[str, int, str, str], ...] = (
        ("suspended", 400, "Account Suspended", "Account Suspended."),
        (
            "temporarily_suspended",
            403,
            "Account Temporarily Suspended.",
            "Account Temporarily Suspended.",
        ),
        ("blocked", 400, "InvalidParams", "given app_id is invalid/blocked"),
    )
    invalid_app_id_answer: tuple[int, str] = (400, "given app_id is invalid/blocked")

    def auth_username_missing(self, request_id: str) -> Response:
        """401 as the Merge Users reference words it."""
        return self.error(
            401,
            "Username (APP_KEY) is missing in the Basic Auth authorization.",
            request_id,
            type="Authentication required",
        )

    def auth_password_missing(self, request_id: str) -> Response:
        """401 as the Merge Users reference words it."""
        return self.error(
            401,
            "Password (APP_SECRET) is missing in the Basic Auth authorization.",
            request_id,
            type="Authentication required",
        )

    def secret_not_set(self, request_id: str) -> Response:
        """409 as the Merge Users reference words it."""
        return self.error(409, f"{SECRET_NOT_SET}.", request_id, type="Authentication required.")

    def payload_too_large(self, request_id: str, limit_text: str) -> Response:
        """413 as the Merge Users reference words it."""
        return self.error(
            413, "The payload can not exceed 128KB", request_id, type="PayloadTooLarge"
        )
