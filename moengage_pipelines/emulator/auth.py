"""HTTP Basic authentication, key families, ``MOE-APPKEY`` and data-centre checks."""

from __future__ import annotations

import base64
import binascii
import re

from moengage_pipelines.config import DATA_CENTRES
from moengage_pipelines.emulator.http import ApiError, Request
from moengage_pipelines.emulator.routing import Route
from moengage_pipelines.emulator.settings import EmulatorSettings

__all__ = ["authenticate", "check_host"]

_HOST = re.compile(r"^api-(?P<dc>[0-9]+)\.moengage\.com(:\d+)?$", re.IGNORECASE)


def check_host(request: Request, request_id: str, route: Route) -> str | None:
    """The data centre named by a ``Host: api-{dc}.moengage.com`` header, if any.

    Raises:
        ApiError: 404 for a data centre MoEngage does not have (such a host does not exist).
    """
    host = request.header("host") or ""
    found = _HOST.match(host)
    if found is None:
        return None  # loopback or a custom base URL: no data centre implied
    dc = found.group("dc")
    if dc not in DATA_CENTRES:
        raise ApiError(route.envelope.not_found(request_id))
    return dc


def authenticate(
    request: Request, route: Route, settings: EmulatorSettings, request_id: str, host_dc: str | None
) -> str:
    """Check a request's credentials for a route.

    Returns:
        The workspace id (the Basic-auth username).

    Raises:
        ApiError: With the route's envelope: 401 for missing/invalid credentials or a
            ``MOE-APPKEY`` that differs from the username, 403 for a valid key of the other
            family, 409/400 for a workspace in the path or query that is missing or differs.
    """
    envelope = route.envelope
    header = request.header("authorization")
    if not header or not header.strip():
        raise ApiError(envelope.auth_missing(request_id))
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise ApiError(envelope.auth_scheme(request_id))
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(envelope.auth_scheme(request_id)) from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise ApiError(envelope.auth_scheme(request_id))
    keys = settings.workspaces.get(username)
    if keys is None or (host_dc is not None and host_dc != keys.dc):
        # A workspace lives in one data centre; elsewhere its id is unknown.
        raise ApiError(envelope.auth_unknown_workspace(request_id))
    expected = keys.data_api_key if route.auth == "data" else keys.campaign_api_key
    other = keys.campaign_api_key if route.auth == "data" else keys.data_api_key
    if password != expected:
        if password == other:
            raise ApiError(envelope.auth_wrong_family(request_id))
        raise ApiError(envelope.auth_bad_key(request_id))
    appkey = request.header("moe-appkey")
    if route.appkey != "ignored":
        if appkey is None or not appkey.strip():
            if route.appkey == "required":
                raise ApiError(envelope.appkey_missing(request_id))
        elif appkey.strip() != username:
            raise ApiError(envelope.appkey_mismatch(request_id))
    return username


def check_workspace_param(
    request: Request, route: Route, params: dict[str, str], workspace: str, request_id: str
) -> None:
    """Require the workspace named in the path or query to equal the authenticated one.

    Raises:
        ApiError: 400 ParamsRequired when the query parameter is missing, 409 when it differs.
    """
    if route.workspace_param is None:
        return
    if route.workspace_in_query:
        value = request.query.get(route.workspace_param)
        if value is None or not value.strip():
            raise ApiError(route.envelope.params_required(request_id))
    else:
        value = params.get(route.workspace_param, "")
    if value.strip() != workspace:
        raise ApiError(route.envelope.workspace_mismatch(request_id))
