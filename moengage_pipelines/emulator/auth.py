"""HTTP Basic authentication, key families, ``MOE-APPKEY``, data centres and account states."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import cast

from moengage_pipelines.config import DATA_CENTRES
from moengage_pipelines.emulator.accounts import REFUSING_STATES
from moengage_pipelines.emulator.envelope_table import Family, Situation
from moengage_pipelines.emulator.envelopes import render
from moengage_pipelines.emulator.http import ApiError, Request
from moengage_pipelines.emulator.routing import Route
from moengage_pipelines.emulator.settings import EmulatorSettings

__all__ = ["authenticate", "check_account", "check_host", "check_workspace_param"]

_HOST = re.compile(r"^api-(?P<dc>[0-9]+)\.moengage\.com(:\d+)?$", re.IGNORECASE)


def check_host(request: Request, request_id: str, family: Family) -> str | None:
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
        raise ApiError(render(family, "not_found", request_id))
    return dc


def authenticate(
    request: Request,
    route: Route,
    settings: EmulatorSettings,
    request_id: str,
    host_dc: str | None,
    account_state: Callable[[str], str] = lambda workspace: "active",
) -> str:
    """Check a request's credentials for a route.

    Returns:
        The workspace id (the Basic-auth username).

    Raises:
        ApiError: With the route's envelope: 401 for missing/invalid credentials (an empty
            username or password included) or a ``MOE-APPKEY`` that differs from the
            username, 409 on a Data API of a workspace whose key was never set, 403 for a
            valid key of the other family.
    """

    def refused(situation: Situation) -> ApiError:
        return ApiError(render(route.family, situation, request_id))

    header = request.header("authorization")
    if not header or not header.strip():
        raise refused("auth_missing")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        raise refused("auth_scheme")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise refused("auth_scheme") from None
    username, colon, password = decoded.partition(":")
    if not colon:
        raise refused("auth_scheme")
    if not username.strip():
        raise refused("auth_username_missing")
    if not password.strip():
        raise refused("auth_password_missing")
    keys = settings.workspaces.get(username)
    if keys is None or (host_dc is not None and host_dc != keys.dc):
        # A workspace lives in one data centre; elsewhere its id is unknown.
        raise refused("auth_unknown_workspace")
    # "secret_not_set": the workspace has no Data API key, so nothing matches it.
    data_key = None if account_state(username) == "secret_not_set" else keys.data_api_key
    if route.auth == "data" and data_key is None:
        raise refused("secret_not_set")
    expected = data_key if route.auth == "data" else keys.campaign_api_key
    other = keys.campaign_api_key if route.auth == "data" else data_key
    if password != expected:
        if password == other:
            raise refused("auth_wrong_family")
        raise refused("auth_bad_key")
    appkey = request.header("moe-appkey")
    if route.appkey != "ignored":
        if appkey is None or not appkey.strip():
            if route.appkey == "required":
                raise refused("appkey_missing")
        elif appkey.strip() != username:
            raise refused("appkey_mismatch")
    return username


def check_workspace_param(
    request: Request,
    route: Route,
    params: dict[str, str],
    workspace: str,
    request_id: str,
    settings: EmulatorSettings,
) -> None:
    """Require the workspace named in the path or query to equal the authenticated one.

    Raises:
        ApiError: 400 ParamsRequired when the query parameter is missing; the route's
            ``InvalidParams`` answer when it names no workspace at all; 409 when it names
            another workspace than the credentials.
    """
    if route.workspace_param is None:
        return
    if route.workspace_in_query:
        value = request.query.get(route.workspace_param)
        if value is None or not value.strip():
            raise ApiError(render(route.family, "params_required", request_id))
    else:
        value = params.get(route.workspace_param, "")
    if value.strip() == workspace:
        return
    if value.strip() not in settings.workspaces:
        raise ApiError(render(route.family, "invalid_app_id", request_id))
    raise ApiError(render(route.family, "workspace_mismatch", request_id))


def check_account(family: Family, state: str, request_id: str) -> None:
    """Refuse a workspace MoEngage refuses (blacklisted, suspended, blocked).

    Raises:
        ApiError: The family's answer for the state.
    """
    if state in REFUSING_STATES:
        situation = cast(Situation, f"account_{state}")
        raise ApiError(render(family, situation, request_id))
