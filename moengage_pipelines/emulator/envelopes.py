"""Error bodies in each MoEngage API family's own shape.

MoEngage has no single error format: the Data APIs answer ``{"status":"fail","error":{...}}``,
campaign-stats ``{title, description, code}``, the campaigns APIs
``{"error":{code, message, target, details, request_id}}``, catalog
``{"error-code", "message"}`` and the report download
``{"error":{attribute, message, type, request_id}}``. Every endpoint names its envelope, and
every error the emulator produces (including for bad requests to unknown paths) goes through
one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

from moengage_pipelines.emulator.http import Response, json_response

__all__ = [
    "CAMPAIGNS",
    "CATALOG",
    "CATALOG_ERROR_CODES",
    "DATA",
    "REPORTS",
    "STATS",
    "CampaignsEnvelope",
    "CatalogEnvelope",
    "DataEnvelope",
    "Envelope",
    "ReportEnvelope",
    "StatsEnvelope",
]

_UNEXPECTED = (
    "An unexpected error was encountered while processing this request."
    " Please contact MoEngage Team"
)
_STATUS_TITLES = {
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
            _UNEXPECTED,
            request_id,
            type="ServerError",
        )


@dataclass(frozen=True)
class DataEnvelope(Envelope):
    """``{"status":"fail","error":{"attribute"?, "message", "type", "request_id"}}``.

    The 429 wording differs per endpoint (Track User vs Track Event), and Delete User answers
    429 and 5xx as ``{"status":"fail","title","description"}``; the fields select them.
    """

    name: str = "data"
    rate_limit_message: str = "Rate limit exceeded"
    rate_limit_type: str = "RateLimitError"
    unsupported_message: str = "Unsupported Media Type"
    unsupported_type: str = "MediaTypeError"
    title_style_throttling: bool = False

    def error(self, status, message, request_id, *, type=None, attribute=None, headers=()):  # noqa: D102
        error: dict[str, str] = {}
        if attribute is not None:
            error["attribute"] = attribute
        error["message"] = message
        error["type"] = type or _STATUS_TITLES.get(status, "Error")
        error["request_id"] = request_id
        return json_response(status, {"status": "fail", "error": error}, headers)

    def content_type_unsupported(self, request_id: str) -> Response:  # noqa: D102
        return self.error(415, self.unsupported_message, request_id, type=self.unsupported_type)

    def rate_limited(self, request_id, headers):  # noqa: D102
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

    def server_error(self, request_id, status=500):  # noqa: D102
        if self.title_style_throttling:
            body = {
                "status": "fail",
                "title": "Internal Error",
                "description": "Please contact the MoEngage team.",
            }
            return json_response(status, body)
        return super().server_error(request_id, status)


@dataclass(frozen=True)
class StatsEnvelope(Envelope):
    """campaign-stats: ``{"title", "description", "code"}`` (code is the request id)."""

    name: str = "stats"

    def error(self, status, message, request_id, *, type=None, attribute=None, headers=()):  # noqa: D102
        title = type or _STATUS_TITLES.get(status, "Error")
        return json_response(
            status, {"title": title, "description": message, "code": request_id}, headers
        )

    def auth_missing(self, request_id):  # noqa: D102
        return self.error(
            401, "No identity information found.", request_id, type="Authentication required"
        )

    def auth_bad_key(self, request_id):  # noqa: D102
        return self.error(
            401, "Invalid identity information found.", request_id, type="Authentication required"
        )

    def auth_unknown_workspace(self, request_id):  # noqa: D102
        return self.auth_bad_key(request_id)

    def auth_wrong_family(self, request_id):  # noqa: D102
        return json_response(
            403, {"title": "Forbidden Request", "description": None, "code": request_id}
        )

    def appkey_missing(self, request_id):  # noqa: D102
        # The documented 400 of campaign-stats is exactly what a missing MOE-APPKEY produces.
        return self.error(
            400,
            "app_key - Some of the field values are invalid: app_key : None",
            request_id,
            type="Invalid Field Value",
        )

    def rate_limited(self, request_id, headers):  # noqa: D102
        return self.error(
            429, "Rate limit exceeded", request_id, type="Too Many Requests", headers=headers
        )

    def server_error(self, request_id, status=500):  # noqa: D102
        return self.error(
            status,
            _UNEXPECTED,
            request_id,
            type="Server Error",
        )


@dataclass(frozen=True)
class CampaignsEnvelope(Envelope):
    """Campaigns (legacy v1): ``{"error":{code, message, target, details, request_id}}``."""

    name: str = "campaigns"

    def error(self, status, message, request_id, *, type=None, attribute=None, headers=()):  # noqa: D102
        code = f"{status} {type or _STATUS_TITLES.get(status, 'Error')}"
        target = attribute or ""
        body = {
            "error": {
                "code": code,
                "message": message,
                "target": target,
                "details": [{"target": target, "message": message}],
                "request_id": request_id,
            }
        }
        return json_response(status, body, headers)

    def _auth(self, request_id: str, target: str, detail: str, status: int = 401) -> Response:
        body = {
            "error": {
                "code": f"{status} Authentication error"
                if status == 401
                else f"{status} Forbidden",
                "message": "Authentication required",
                "target": target,
                "details": [{"code": "InvalidValue", "target": target, "message": detail}],
                "request_id": request_id,
            }
        }
        return json_response(status, body)

    def auth_missing(self, request_id):  # noqa: D102
        return self._auth(request_id, "Authorization", "Authorization header is missing.")

    def auth_scheme(self, request_id):  # noqa: D102
        return self._auth(request_id, "Authorization", "Only Basic authorization is supported.")

    def auth_unknown_workspace(self, request_id):  # noqa: D102
        return self._auth(request_id, "APP_KEY", "Invalid APP_KEY is provided.")

    def auth_bad_key(self, request_id):  # noqa: D102
        return self._auth(request_id, "APP_SECRET_KEY", "Invalid APP_SECRET_KEY is provided.")

    def auth_wrong_family(self, request_id):  # noqa: D102
        return self._auth(
            request_id, "APP_SECRET_KEY", "The key does not have access to this API.", 403
        )

    def appkey_missing(self, request_id):  # noqa: D102
        return self._auth(request_id, "MOE-APPKEY", "MOE-APPKEY is missing in Header")

    def appkey_mismatch(self, request_id):  # noqa: D102
        return self._auth(
            request_id, "MOE-APPKEY", "MOE-APPKEY doesn't match the Username used in Basic Auth"
        )

    def rate_limited(self, request_id, headers):  # noqa: D102
        body = {
            "error": {
                "code": "429 conflict",
                "message": "rate_limit",
                "target": "",
                "details": [{"target": "rate_limit", "message": "Rate limiting breached"}],
                "request_id": request_id,
            }
        }
        return json_response(429, body, headers)

    def server_error(self, request_id, status=500):  # noqa: D102
        return self.error(
            status,
            "Something went wrong. Please contact Moengage team",
            request_id,
            type="Internal Server Error",
        )


# Every ``error-code`` the catalog API answers: the documented ones, and two for situations
# MoEngage documents no body for (429, 5xx).
CATALOG_ERROR_CODES = frozenset(
    {
        "invalid-request",
        "request-unauthenticated",
        "request-denied",
        "catalog-not-found",
        "payload-size-exceeded",
        "duplicate-catalog-name",
        "missing-mandatory-attributes",
        "catalog-limit-exceeded",
        "attribute-limit-exceeded",
        "attribute-exists",
        "too-many-attributes",
        "rate-limit-exceeded",
        "internal-server-error",
    }
)
# The code of a status when the caller names none. 405 and 431 have no catalog code; they
# are requests MoEngage cannot serve as sent, so they share the 400's ``invalid-request``.
_CATALOG_STATUS_CODES = {
    400: "invalid-request",
    401: "request-unauthenticated",
    403: "request-denied",
    404: "catalog-not-found",
    405: "invalid-request",
    409: "duplicate-catalog-name",
    413: "payload-size-exceeded",
    415: "invalid-request",
    429: "rate-limit-exceeded",
    431: "invalid-request",
}


@dataclass(frozen=True)
class CatalogEnvelope(Envelope):
    """Catalog: ``{"error-code", "message"}``, the code always one of ``CATALOG_ERROR_CODES``.

    The shared helpers pass the Data APIs' ``type`` wording ("Authentication required");
    the catalog API answers kebab-case codes instead, so a ``type`` that is no catalog code
    gives way to the code of the status (401 ``request-unauthenticated``...).
    """

    name: str = "catalog"

    @staticmethod
    def code_for(status: int, type: str | None = None) -> str:
        """The ``error-code`` for a status, or ``type`` when it is a catalog code."""
        if type in CATALOG_ERROR_CODES:
            return type
        if status >= 500:
            return "internal-server-error"
        return _CATALOG_STATUS_CODES.get(status, "invalid-request")

    def error(self, status, message, request_id, *, type=None, attribute=None, headers=()):  # noqa: D102
        code = self.code_for(status, type)
        return json_response(status, {"error-code": code, "message": message}, headers)

    def auth_wrong_family(self, request_id):  # noqa: D102
        return self.error(403, "The account does not have access to the Catalog APIs", request_id)

    def payload_too_large(self, request_id, limit_text):  # noqa: D102
        return self.error(413, f"Payload size exceeds {limit_text}", request_id)

    def malformed_json(self, request_id):  # noqa: D102
        return self.error(400, "Invalid JSON in request body", request_id)

    def rate_limited(self, request_id, headers):  # noqa: D102
        return self.error(429, "Rate limit exceeded", request_id, headers=headers)

    def server_error(self, request_id, status=500):  # noqa: D102
        return self.error(status, "Internal server error", request_id)


@dataclass(frozen=True)
class ReportEnvelope(Envelope):
    """Report download: ``{"error": {"attribute", "message", "type", "request_id"}}``; 401 ``{}``.

    ``type`` is the status's reason in capitals, as the documented ``"BAD REQUEST"``. The
    reference documents 401 as an empty body; it is sent as the empty JSON object.
    """

    name: str = "reports"

    def error(self, status, message, request_id, *, type=None, attribute=None, headers=()):  # noqa: D102
        if status == 401:
            return json_response(401, {}, headers)
        body = {
            "error": {
                "attribute": attribute or "",
                "message": message,
                "type": _STATUS_TITLES.get(status, "Error").upper(),
                "request_id": request_id,
            }
        }
        return json_response(status, body, headers)


DATA = DataEnvelope()
STATS = StatsEnvelope()
CAMPAIGNS = CampaignsEnvelope()
CATALOG = CatalogEnvelope()
REPORTS = ReportEnvelope()
