"""Error shapes of the campaign-stats, campaigns, catalog and report-download APIs."""

from __future__ import annotations

from dataclasses import dataclass

from moengage_pipelines.emulator.envelope_base import (
    SECRET_NOT_SET,
    STATUS_TITLES,
    UNEXPECTED,
    Envelope,
)
from moengage_pipelines.emulator.http import Response, json_response

__all__ = [
    "CATALOG_ERROR_CODES",
    "CampaignsEnvelope",
    "CatalogEnvelope",
    "ReportEnvelope",
    "StatsEnvelope",
]


@dataclass(frozen=True)
class StatsEnvelope(Envelope):
    """campaign-stats: ``{"title", "description", "code"}`` (code is the request id)."""

    name: str = "stats"

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
        """``{"title", "description", "code"}``; ``type`` is the title."""
        title = type or STATUS_TITLES.get(status, "Error")
        return json_response(
            status, {"title": title, "description": message, "code": request_id}, headers
        )

    def auth_missing(self, request_id: str) -> Response:
        """401 "No identity information found." (the campaign-stats reference)."""
        return self.error(
            401, "No identity information found.", request_id, type="Authentication required"
        )

    def auth_bad_key(self, request_id: str) -> Response:
        """401 "Invalid identity information found." (the campaign-stats reference)."""
        return self.error(
            401, "Invalid identity information found.", request_id, type="Authentication required"
        )

    def auth_unknown_workspace(self, request_id: str) -> Response:
        """As a bad key: campaign-stats documents one 401 for invalid credentials."""
        return self.auth_bad_key(request_id)

    def auth_username_missing(self, request_id: str) -> Response:
        """As a bad key: campaign-stats documents one 401 for invalid credentials."""
        return self.auth_bad_key(request_id)

    def auth_password_missing(self, request_id: str) -> Response:
        """As a bad key: campaign-stats documents one 401 for invalid credentials."""
        return self.auth_bad_key(request_id)

    def auth_wrong_family(self, request_id: str) -> Response:
        """403 "Forbidden Request" with no description, as documented."""
        return json_response(
            403, {"title": "Forbidden Request", "description": None, "code": request_id}
        )

    def appkey_missing(self, request_id: str) -> Response:
        """The documented 400 "app_key ... : None"."""
        # The documented 400 of campaign-stats is exactly what a missing MOE-APPKEY produces.
        return self.error(
            400,
            "app_key - Some of the field values are invalid: app_key : None",
            request_id,
            type="Invalid Field Value",
        )

    def rate_limited(self, request_id: str, headers: tuple[tuple[str, str], ...]) -> Response:
        """429 titled "Too Many Requests" (no body is documented)."""
        return self.error(
            429, "Rate limit exceeded", request_id, type="Too Many Requests", headers=headers
        )

    def server_error(self, request_id: str, status: int = 500) -> Response:
        """5xx titled "Server Error", as documented."""
        return self.error(
            status,
            UNEXPECTED,
            request_id,
            type="Server Error",
        )


@dataclass(frozen=True)
class CampaignsEnvelope(Envelope):
    """Campaigns (legacy v1): ``{"error":{code, message, target, details, request_id}}``."""

    name: str = "campaigns"

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
        """``{"error": {...}}`` with ``code`` "<status> <type>" and ``attribute`` as target."""
        code = f"{status} {type or STATUS_TITLES.get(status, 'Error')}"
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

    def auth_missing(self, request_id: str) -> Response:
        """401 naming the Authorization header."""
        return self._auth(request_id, "Authorization", "Authorization header is missing.")

    def auth_scheme(self, request_id: str) -> Response:
        """401 naming the Authorization header."""
        return self._auth(request_id, "Authorization", "Only Basic authorization is supported.")

    def auth_unknown_workspace(self, request_id: str) -> Response:
        """401 naming APP_KEY."""
        return self._auth(request_id, "APP_KEY", "Invalid APP_KEY is provided.")

    def auth_username_missing(self, request_id: str) -> Response:
        """401 naming APP_KEY."""
        return self._auth(request_id, "APP_KEY", "APP_KEY is missing.")

    def auth_password_missing(self, request_id: str) -> Response:
        """401 naming APP_SECRET_KEY."""
        return self._auth(request_id, "APP_SECRET_KEY", "APP_SECRET_KEY is missing.")

    def auth_bad_key(self, request_id: str) -> Response:
        """401 naming APP_SECRET_KEY, as documented."""
        return self._auth(request_id, "APP_SECRET_KEY", "Invalid APP_SECRET_KEY is provided.")

    def auth_wrong_family(self, request_id: str) -> Response:
        """403 naming APP_SECRET_KEY."""
        return self._auth(
            request_id, "APP_SECRET_KEY", "The key does not have access to this API.", 403
        )

    def appkey_missing(self, request_id: str) -> Response:
        """401 naming MOE-APPKEY."""
        return self._auth(request_id, "MOE-APPKEY", "MOE-APPKEY is missing in Header")

    def appkey_mismatch(self, request_id: str) -> Response:
        """401 naming MOE-APPKEY."""
        return self._auth(
            request_id, "MOE-APPKEY", "MOE-APPKEY doesn't match the Username used in Basic Auth"
        )

    def rate_limited(self, request_id: str, headers: tuple[tuple[str, str], ...]) -> Response:
        """The documented ``"429 conflict"`` body."""
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

    def server_error(self, request_id: str, status: int = 500) -> Response:
        """5xx in the campaigns shape."""
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
        """``{"error-code", "message"}`` (see ``code_for``)."""
        code = self.code_for(status, type)
        return json_response(status, {"error-code": code, "message": message}, headers)

    def auth_wrong_family(self, request_id: str) -> Response:
        """403 ``request-denied``, as documented."""
        return self.error(403, "The account does not have access to the Catalog APIs", request_id)

    def secret_not_set(self, request_id: str) -> Response:
        """401 ``request-unauthenticated``: without a key nothing authenticates."""
        return self.error(401, SECRET_NOT_SET, request_id)

    def payload_too_large(self, request_id: str, limit_text: str) -> Response:
        """413 ``payload-size-exceeded``."""
        return self.error(413, f"Payload size exceeds {limit_text}", request_id)

    def malformed_json(self, request_id: str) -> Response:
        """400 ``invalid-request``."""
        return self.error(400, "Invalid JSON in request body", request_id)

    def rate_limited(self, request_id: str, headers: tuple[tuple[str, str], ...]) -> Response:
        """429 ``rate-limit-exceeded``."""
        return self.error(429, "Rate limit exceeded", request_id, headers=headers)

    def server_error(self, request_id: str, status: int = 500) -> Response:
        """5xx ``internal-server-error``."""
        return self.error(status, "Internal server error", request_id)


@dataclass(frozen=True)
class ReportEnvelope(Envelope):
    """Report download: ``{"error": {"attribute", "message", "type", "request_id"}}``; 401 ``{}``.

    ``type`` is the status's reason in capitals, as the documented ``"BAD REQUEST"``. The
    reference documents 401 as an empty body; it is sent as the empty JSON object.
    """

    name: str = "reports"

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
        """``{"error": {...}}`` with ``type`` the status's reason in capitals; 401 ``{}``."""
        if status == 401:
            return json_response(401, {}, headers)
        body = {
            "error": {
                "attribute": attribute or "",
                "message": message,
                "type": STATUS_TITLES.get(status, "Error").upper(),
                "request_id": request_id,
            }
        }
        return json_response(status, body, headers)
