"""The error situations every API family answers, and the wording they share.

``Envelope`` names each situation the shared request pipeline meets (no credentials, a wrong
key, a body too large...) and builds it through ``error``, which each family's subclass
overrides with its own shape (``data_envelopes``, ``family_envelopes``).
"""

from __future__ import annotations

from moengage_pipelines.emulator.http import Response

__all__ = ["ACCOUNT_ANSWERS", "SECRET_NOT_SET", "STATUS_TITLES", "UNEXPECTED", "Envelope"]

UNEXPECTED = (
    "An unexpected error was encountered while processing this request."
    " Please contact MoEngage Team"
)
# What the Data APIs answer for a workspace MoEngage refuses: (status, type, message), per the
# data-overview error table and the examples of the Track Event, Track Device and Get User
# references. Endpoints whose reference shows other wording override entries.
ACCOUNT_ANSWERS: dict[str, tuple[int, str, str]] = {
    "blacklisted": (400, "Blacklisted", "Your account is blacklisted, Please contact MoEngage."),
    "suspended": (
        403,
        "Account Suspended",
        "Your account is suspended. Please contact MoEngage team.",
    ),
    "temporarily_suspended": (
        403,
        "Account Temporarily Suspended",
        "Your account is temporarily suspended. Please contact MoEngage team.",
    ),
    "blocked": (403, "BlockedClient", "Your account is suspended. Please contact MoEngage team."),
}
SECRET_NOT_SET = "App Secret key is not set. Please login to the dashboard to set a key"
STATUS_TITLES = {
    400: "Bad Request",
    401: "Authentication required",
    403: "Forbidden Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class Envelope:
    """Builds one family's error responses. Subclasses override ``error``.

    The named helpers are the situations the shared request pipeline meets; endpoints use
    ``error`` (or the family's own helpers) for their validation errors.
    """

    name = "base"

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
        """An error response with MoEngage's ``type`` and ``message`` wording."""
        raise NotImplementedError

    # Situations the shared pipeline produces -----------------------------------------

    def auth_missing(self, request_id: str) -> Response:
        """No Authorization header."""
        return self.error(
            401, "Authentication Header Required", request_id, type="Authentication required"
        )

    def auth_scheme(self, request_id: str) -> Response:
        """Authorization that is not HTTP Basic (or cannot be decoded)."""
        return self.error(
            401,
            "Invalid authorization used. MoEngage only supports 'Basic Auth' authorization.",
            request_id,
            type="Authentication required",
        )

    def auth_username_missing(self, request_id: str) -> Response:
        """HTTP Basic with an empty username (the workspace id)."""
        return self.error(
            401,
            "APP_KEY missing in the authentication header",
            request_id,
            type="Authentication required",
        )

    def auth_password_missing(self, request_id: str) -> Response:
        """HTTP Basic with an empty password (the API key)."""
        return self.error(
            401,
            "APP_SECRET missing in the authentication header",
            request_id,
            type="Authentication required",
        )

    def secret_not_set(self, request_id: str) -> Response:
        """The workspace never set the key of this API (Data APIs: 409)."""
        return self.error(409, SECRET_NOT_SET, request_id, type="Authentication required")

    def auth_unknown_workspace(self, request_id: str) -> Response:
        """A username that is no workspace here."""
        return self.error(
            401,
            "Invalid APP_ID used in Authentication Header",
            request_id,
            type="Authentication required",
        )

    def auth_bad_key(self, request_id: str) -> Response:
        """A password that is no key of the workspace."""
        return self.error(
            401,
            "App Secret key mismatch. Please login to the dashboard to verify key",
            request_id,
            type="Authentication required",
        )

    def auth_wrong_family(self, request_id: str) -> Response:
        """A valid key of the workspace that does not cover this API."""
        return self.error(
            403, "The API key used does not have access to this API", request_id, type="Forbidden"
        )

    def appkey_missing(self, request_id: str) -> Response:
        """``MOE-APPKEY`` absent where the API requires it."""
        return self.error(
            401, "MOE-APPKEY is missing in Header", request_id, type="Authentication required"
        )

    def appkey_mismatch(self, request_id: str) -> Response:
        """``MOE-APPKEY`` differs from the Basic-auth username."""
        return self.error(
            401,
            "MOE_APPKEY doesn't match the Username (APP_KEY) used in Basic Auth authorization.",
            request_id,
            type="Authentication required",
        )

    def workspace_mismatch(self, request_id: str) -> Response:
        """The workspace in the path or query differs from the Basic-auth username."""
        return self.error(
            409,
            "App key mismatch in params and authentication",
            request_id,
            type="Authentication Mismatch",
        )

    def invalid_app_id(self, request_id: str) -> Response:
        """The workspace in the path or query is no workspace at all."""
        return self.error(400, "Given app_id is invalid.", request_id, type="InvalidParams")

    def account_refused(self, request_id: str, state: str) -> Response:
        """A workspace MoEngage refuses (``accounts.REFUSING_STATES``).

        Only the Data APIs document these answers; the other families answer 403 in their
        own shape with the Data APIs' message.
        """
        return self.error(403, ACCOUNT_ANSWERS[state][2], request_id)

    def params_required(self, request_id: str) -> Response:
        """``app_id`` missing from the query."""
        return self.error(
            400, "app_id is required in path/query params.", request_id, type="ParamsRequired"
        )

    def content_type_missing(self, request_id: str) -> Response:
        """No Content-Type header."""
        return self.error(
            400, "The Content-Type Header is required", request_id, type="Missing header value"
        )

    def content_type_unsupported(self, request_id: str) -> Response:
        """A Content-Type other than JSON."""
        return self.error(415, "Unsupported Media Type", request_id, type="MediaTypeError")

    def payload_too_large(self, request_id: str, limit_text: str) -> Response:
        """A body over the endpoint's byte limit."""
        return self.error(
            413, f"Payload size exceeds {limit_text}", request_id, type="PayloadTooLarge"
        )

    def body_not_json(self, request_id: str) -> Response:
        """An empty body, or JSON that is not the expected kind of document."""
        return self.error(
            400, "A valid JSON document is required", request_id, type="Body type is not JSON"
        )

    def malformed_json(self, request_id: str) -> Response:
        """A body that does not parse as UTF-8 JSON."""
        return self.error(
            400,
            "Could not decode the request body. The JSON was incorrect or not encoded as UTF-8.",
            request_id,
            type="Malformed JSON",
        )

    def not_found(self, request_id: str) -> Response:
        """No endpoint at this path."""
        return self.error(404, "Resource not found", request_id, type="Not Found")

    def method_not_allowed(self, request_id: str, allowed: list[str]) -> Response:
        """The path exists but not for this method."""
        return self.error(
            405,
            "Method not allowed",
            request_id,
            type="Method Not Allowed",
            headers=(("allow", ", ".join(allowed)),),
        )

    def header_too_large(self, request_id: str) -> Response:
        """Headers over the size limit."""
        return self.error(431, "Request header fields too large", request_id, type="Bad Request")

    def rate_limited(self, request_id: str, headers: tuple[tuple[str, str], ...]) -> Response:
        """Over a rate limit."""
        return self.error(
            429, "Rate limit exceeded", request_id, type="RateLimitError", headers=headers
        )

    def server_error(self, request_id: str, status: int = 500) -> Response:
        """A 5xx (an injected fault, or an emulator bug caught at the top)."""
        return self.error(
            status,
            UNEXPECTED,
            request_id,
            type="ServerError",
        )
