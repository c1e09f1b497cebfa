"""Every error the emulator answers, as one table: (API family, situation) → (status, body).

MoEngage has no single error format: the Data APIs answer ``{"status":"fail","error":{...}}``,
campaign-stats ``{title, description, code}``, the campaigns APIs
``{"error":{code, message, target, details, request_id}}``, catalog ``{"error-code",
"message"}`` and the report download ``{"error":{attribute, message, type, request_id}}``
(``envelope_shapes``). Some Data API references also word single errors their own way (Track
User, Track Event, Merge Users, Delete User), so each of those is a family too, based on
``data``.

``ANSWERS`` maps ``(family, situation)`` to an ``Answer``. A family without its own row for a
situation takes its base family's (``FAMILY_BASES``), then the shared row under ``"*"``
(the Data APIs' wording, which the other families answer in their own shape).
``envelopes.render`` turns a row into a response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args

import moengage_pipelines.emulator.envelope_shapes as shapes

__all__ = [
    "ANSWERS",
    "FAMILY_BASES",
    "FAMILY_SHAPES",
    "SITUATIONS",
    "Answer",
    "Family",
    "Situation",
]

Family = Literal[
    "data", "track_user", "event", "merge", "delete", "stats", "campaigns", "catalog", "reports"
]
Situation = Literal[
    # Routing and headers.
    "not_found",
    "method_not_allowed",
    "header_too_large",
    # Credentials (HTTP Basic, MOE-APPKEY) and the workspace they name.
    "auth_missing",
    "auth_scheme",
    "auth_username_missing",
    "auth_password_missing",
    "auth_unknown_workspace",
    "auth_bad_key",
    "auth_wrong_family",
    "secret_not_set",
    "appkey_missing",
    "appkey_mismatch",
    "params_required",
    "invalid_app_id",
    "workspace_mismatch",
    # Workspaces MoEngage refuses (``accounts.REFUSING_STATES``).
    "account_blacklisted",
    "account_suspended",
    "account_temporarily_suspended",
    "account_blocked",
    # The body.
    "content_type_missing",
    "content_type_unsupported",
    "payload_too_large",
    "body_not_json",
    "malformed_json",
    # Limits and failures.
    "rate_limited",
    "server_error",
    # Report download signatures.
    "signature_missing",
    "signature_mismatch",
    # An endpoint's own validation error: status, message, type and attribute from the caller.
    "error",
]
SITUATIONS: tuple[Situation, ...] = get_args(Situation)


@dataclass(frozen=True)
class Answer:
    """One row: what a family answers in one situation.

    Attributes:
        status: HTTP status, or None for the caller's (the 5xx of a fault, an endpoint's
            own error).
        message: Text (a ``str.format`` template over the caller's fields, e.g. ``{limit}``),
            or None for the caller's.
        type: MoEngage's error type; None for the caller's, else the status's reason.
        attribute: The field the error is about, or None for the caller's.
        body: Body template; None for the family's shape (``FAMILY_SHAPES``).
    """

    status: int | None = None
    message: str | None = None
    type: str | None = None
    attribute: str | None = None
    body: Any = None


FAMILY_SHAPES: Mapping[Family, Any] = MappingProxyType(
    {
        "data": shapes.DATA,
        "stats": shapes.STATS,
        "campaigns": shapes.CAMPAIGNS,
        "catalog": shapes.CATALOG,
        "reports": shapes.REPORTS,
    }
)
FAMILY_BASES: Mapping[Family, Family] = MappingProxyType(
    {"track_user": "data", "event": "data", "merge": "data", "delete": "data"}
)

# -- the table ----------------------------------------------------------------------------------

_AUTH = "Authentication required"
_UNEXPECTED = (
    "An unexpected error was encountered while processing this request."
    " Please contact MoEngage Team"
)
_SECRET_NOT_SET = "App Secret key is not set. Please login to the dashboard to set a key"
_SUSPENDED = "Your account is suspended. Please contact MoEngage team."
_BLACKLISTED = "Your account is blacklisted, Please contact MoEngage."
_TEMPORARILY_SUSPENDED = "Your account is temporarily suspended. Please contact MoEngage team."
_INVALID_OR_BLOCKED = "given app_id is invalid/blocked"
_INVALID_IDENTITY = "Invalid identity information found."

ANSWERS: Mapping[tuple[Family | Literal["*"], Situation], Answer] = MappingProxyType(
    {
        # Shared: the Data APIs' wording (data-overview), in each family's shape.
        ("*", "not_found"): Answer(404, "Resource not found", "Not Found"),
        ("*", "method_not_allowed"): Answer(405, "Method not allowed", "Method Not Allowed"),
        ("*", "header_too_large"): Answer(431, "Request header fields too large", "Bad Request"),
        ("*", "auth_missing"): Answer(401, "Authentication Header Required", _AUTH),
        ("*", "auth_scheme"): Answer(
            401,
            "Invalid authorization used. MoEngage only supports 'Basic Auth' authorization.",
            _AUTH,
        ),
        ("*", "auth_username_missing"): Answer(
            401, "APP_KEY missing in the authentication header", _AUTH
        ),
        ("*", "auth_password_missing"): Answer(
            401, "APP_SECRET missing in the authentication header", _AUTH
        ),
        ("*", "auth_unknown_workspace"): Answer(
            401, "Invalid APP_ID used in Authentication Header", _AUTH
        ),
        ("*", "auth_bad_key"): Answer(
            401, "App Secret key mismatch. Please login to the dashboard to verify key", _AUTH
        ),
        ("*", "auth_wrong_family"): Answer(
            403, "The API key used does not have access to this API", "Forbidden"
        ),
        ("*", "secret_not_set"): Answer(409, _SECRET_NOT_SET, _AUTH),
        ("*", "appkey_missing"): Answer(401, "MOE-APPKEY is missing in Header", _AUTH),
        ("*", "appkey_mismatch"): Answer(
            401,
            "MOE_APPKEY doesn't match the Username (APP_KEY) used in Basic Auth authorization.",
            _AUTH,
        ),
        ("*", "params_required"): Answer(
            400, "app_id is required in path/query params.", "ParamsRequired"
        ),
        ("*", "invalid_app_id"): Answer(400, "Given app_id is invalid.", "InvalidParams"),
        ("*", "workspace_mismatch"): Answer(
            409, "App key mismatch in params and authentication", "Authentication Mismatch"
        ),
        # Only the Data APIs document refused accounts; the other families answer 403 in
        # their own shape with the Data APIs' message.
        ("*", "account_blacklisted"): Answer(403, _BLACKLISTED),
        ("*", "account_suspended"): Answer(403, _SUSPENDED),
        ("*", "account_temporarily_suspended"): Answer(403, _TEMPORARILY_SUSPENDED),
        ("*", "account_blocked"): Answer(403, _SUSPENDED),
        ("*", "content_type_missing"): Answer(
            400, "The Content-Type Header is required", "Missing header value"
        ),
        ("*", "content_type_unsupported"): Answer(415, "Unsupported Media Type", "MediaTypeError"),
        ("*", "payload_too_large"): Answer(413, "Payload size exceeds {limit}", "PayloadTooLarge"),
        ("*", "body_not_json"): Answer(
            400, "A valid JSON document is required", "Body type is not JSON"
        ),
        ("*", "malformed_json"): Answer(
            400,
            "Could not decode the request body. The JSON was incorrect or not encoded as UTF-8.",
            "Malformed JSON",
        ),
        ("*", "rate_limited"): Answer(429, "Rate limit exceeded", "RateLimitError"),
        ("*", "server_error"): Answer(None, _UNEXPECTED, "ServerError"),
        ("*", "signature_missing"): Answer(401, "Signature missing"),
        ("*", "signature_mismatch"): Answer(401, "Invalid Signature"),
        ("*", "error"): Answer(),
        # Data APIs: the data-overview error table for refused accounts.
        ("data", "account_blacklisted"): Answer(400, _BLACKLISTED, "Blacklisted"),
        ("data", "account_suspended"): Answer(403, _SUSPENDED, "Account Suspended"),
        ("data", "account_temporarily_suspended"): Answer(
            403, _TEMPORARILY_SUSPENDED, "Account Temporarily Suspended"
        ),
        ("data", "account_blocked"): Answer(403, _SUSPENDED, "BlockedClient"),
        # Track User: its reference words two account errors its own way.
        ("track_user", "account_temporarily_suspended"): Answer(
            403,
            "Your account is temporarily suspended due to payment issues.",
            "Account Temporarily Suspended",
        ),
        ("track_user", "account_blocked"): Answer(
            403, "Your account is blocked. Please contact MoEngage team.", "BlockedClient"
        ),
        # Track Event, Track Device and bulk import.
        ("event", "rate_limited"): Answer(
            429,
            "Rate limits for customers exceeded. Please Try After Some Time",
            "Rate Limits Exceeded",
        ),
        ("event", "content_type_unsupported"): Answer(
            415, "Content type is not supported", "Unsupported media type"
        ),
        # Merge Users.
        ("merge", "auth_username_missing"): Answer(
            401, "Username (APP_KEY) is missing in the Basic Auth authorization.", _AUTH
        ),
        ("merge", "auth_password_missing"): Answer(
            401, "Password (APP_SECRET) is missing in the Basic Auth authorization.", _AUTH
        ),
        ("merge", "secret_not_set"): Answer(409, f"{_SECRET_NOT_SET}.", f"{_AUTH}."),
        ("merge", "invalid_app_id"): Answer(400, _INVALID_OR_BLOCKED, "InvalidParams"),
        ("merge", "account_suspended"): Answer(400, "Account Suspended.", "Account Suspended"),
        ("merge", "account_temporarily_suspended"): Answer(
            403, "Account Temporarily Suspended.", "Account Temporarily Suspended."
        ),
        ("merge", "account_blocked"): Answer(400, _INVALID_OR_BLOCKED, "InvalidParams"),
        ("merge", "payload_too_large"): Answer(
            413, "The payload can not exceed 128KB", "PayloadTooLarge"
        ),
        # Delete User: one 403 for an invalid app id or a refused account; titled 429 and 5xx.
        ("delete", "invalid_app_id"): Answer(403, _INVALID_OR_BLOCKED, "InvalidParams"),
        ("delete", "account_suspended"): Answer(403, _INVALID_OR_BLOCKED, "InvalidParams"),
        ("delete", "account_temporarily_suspended"): Answer(
            403, _INVALID_OR_BLOCKED, "InvalidParams"
        ),
        ("delete", "account_blocked"): Answer(403, _INVALID_OR_BLOCKED, "InvalidParams"),
        ("delete", "rate_limited"): Answer(429, body=shapes.DATA_TITLED_429),
        ("delete", "server_error"): Answer(body=shapes.DATA_TITLED_5XX),
        # campaign-stats: one documented 401 for any invalid credentials.
        ("stats", "auth_missing"): Answer(401, "No identity information found.", _AUTH),
        ("stats", "auth_username_missing"): Answer(401, _INVALID_IDENTITY, _AUTH),
        ("stats", "auth_password_missing"): Answer(401, _INVALID_IDENTITY, _AUTH),
        ("stats", "auth_unknown_workspace"): Answer(401, _INVALID_IDENTITY, _AUTH),
        ("stats", "auth_bad_key"): Answer(401, _INVALID_IDENTITY, _AUTH),
        ("stats", "auth_wrong_family"): Answer(
            403,
            body={"title": "Forbidden Request", "description": None, "code": "{request_id}"},
        ),
        # The documented 400 of campaign-stats is what a missing MOE-APPKEY produces.
        ("stats", "appkey_missing"): Answer(
            400,
            "app_key - Some of the field values are invalid: app_key : None",
            "Invalid Field Value",
        ),
        ("stats", "rate_limited"): Answer(429, "Rate limit exceeded", "Too Many Requests"),
        ("stats", "server_error"): Answer(None, _UNEXPECTED, "Server Error"),
        # Campaigns: credential errors name their target; the documented "429 conflict".
        ("campaigns", "auth_missing"): Answer(
            401,
            "Authorization header is missing.",
            "Authentication error",
            "Authorization",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "auth_scheme"): Answer(
            401,
            "Only Basic authorization is supported.",
            "Authentication error",
            "Authorization",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "auth_unknown_workspace"): Answer(
            401,
            "Invalid APP_KEY is provided.",
            "Authentication error",
            "APP_KEY",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "auth_username_missing"): Answer(
            401, "APP_KEY is missing.", "Authentication error", "APP_KEY", shapes.CAMPAIGNS_AUTH
        ),
        ("campaigns", "auth_password_missing"): Answer(
            401,
            "APP_SECRET_KEY is missing.",
            "Authentication error",
            "APP_SECRET_KEY",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "auth_bad_key"): Answer(
            401,
            "Invalid APP_SECRET_KEY is provided.",
            "Authentication error",
            "APP_SECRET_KEY",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "auth_wrong_family"): Answer(
            403,
            "The key does not have access to this API.",
            "Forbidden",
            "APP_SECRET_KEY",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "appkey_missing"): Answer(
            401,
            "MOE-APPKEY is missing in Header",
            "Authentication error",
            "MOE-APPKEY",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "appkey_mismatch"): Answer(
            401,
            "MOE-APPKEY doesn't match the Username used in Basic Auth",
            "Authentication error",
            "MOE-APPKEY",
            shapes.CAMPAIGNS_AUTH,
        ),
        ("campaigns", "rate_limited"): Answer(429, body=shapes.CAMPAIGNS_429),
        ("campaigns", "server_error"): Answer(
            None, "Something went wrong. Please contact Moengage team", "Internal Server Error"
        ),
        # Catalog: the code comes from the status (see ``catalog_code``); these differ in text.
        ("catalog", "auth_wrong_family"): Answer(
            403, "The account does not have access to the Catalog APIs"
        ),
        # Without a key nothing authenticates: 401 ``request-unauthenticated``.
        ("catalog", "secret_not_set"): Answer(401, _SECRET_NOT_SET),
        ("catalog", "malformed_json"): Answer(400, "Invalid JSON in request body"),
        ("catalog", "server_error"): Answer(None, "Internal server error"),
        # Report download: the reference documents its 401s with an empty body.
        **{
            ("reports", situation): Answer(401, body={})
            for situation in (
                "auth_missing",
                "auth_scheme",
                "auth_username_missing",
                "auth_password_missing",
                "auth_unknown_workspace",
                "auth_bad_key",
                "appkey_missing",
                "appkey_mismatch",
                "signature_missing",
                "signature_mismatch",
            )
        },
    }
)
