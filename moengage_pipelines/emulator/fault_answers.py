"""Answers that faults put in MoEngage's place: a foreign HTML page, an error quoting credentials.

* :func:`garbled_page`: what a proxy, a captive portal or a load balancer answers instead of
  MoEngage: status 200, an HTML page. A client cannot tell whether MoEngage saw the request.
* :func:`credentials_echo`: an error in the endpoint's envelope whose message quotes the
  request's ``Authorization`` header and the ``workspace:key`` pair inside it, as a careless
  server or proxy may. It tests that a client keeps keys out of its errors and logs.
"""

from __future__ import annotations

import base64
import binascii

from moengage_pipelines.emulator.envelope_table import Family
from moengage_pipelines.emulator.envelopes import render
from moengage_pipelines.emulator.http import Request, Response

__all__ = ["credentials_echo", "garbled_page"]

_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Network login required</title></head>"
    b"<body><h1>Sign in to continue</h1><p>This network requires you to sign in before "
    b'reaching the internet.</p><form method="post" action="/login">'
    b'<input name="user"><input name="password" type="password"></form></body></html>\n'
)


def garbled_page() -> Response:
    """A 200 HTML page in place of MoEngage's JSON answer."""
    return Response(200, _PAGE, [("content-type", "text/html; charset=utf-8")])


def credentials_echo(family: Family, request: Request, request_id: str, status: int) -> Response:
    """An error answer of ``status`` quoting the request's credentials back.

    Args:
        family: The endpoint's API family (the envelope's shape).
        request: The request, whose ``Authorization`` header is quoted.
        request_id: Id reported in the body.
        status: 4xx or 5xx.
    """
    authorization = request.header("authorization") or ""
    token = authorization.partition(" ")[2].strip()
    try:
        pair = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        pair = ""
    message = f"Request refused. Received Authorization: {authorization}"
    if pair:
        message += f" (credentials {pair})"
    return render(family, "error", request_id, status=status, message=message, type="Rejected")
