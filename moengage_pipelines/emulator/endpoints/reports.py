"""Campaign report download: ``GET /campaign_reports/rest_api/{APP_ID}/{FILENAME}``.

Not Basic auth: the caller signs the file name, ``Signature: hex(sha256(APP_ID|FILENAME|
campaign_key))`` in a header (or the legacy ``?Signature=`` query parameter). Checks, in order:

1. no signature → 401 (an empty JSON object);
2. ``APP_ID`` that is no workspace here (or lives in another data centre than the
   ``Host: api-{dc}.moengage.com`` names) → 400, attribute ``APP_ID``;
3. a signature that does not match → 401;
4. a file name not shaped ``<Report_name>_<YYYYMMDD>.zip``, naming no configured report, or a
   day on which that report generates no file (or that is still to come) → 400, attribute
   ``FILENAME``;
5. a file generated 7 days ago or more (emulator clock) → 400 "older than 7 days".

A workspace MoEngage refuses (``accounts``) gets 403 in the same shape once the signature
checks out.

400s are ``{"error":{"attribute","message","type":"BAD REQUEST","request_id"}}``. A good
request answers the ZIP (``report_files.build_report``) as ``application/gzip``, the content
type of the API reference (the bytes are a ZIP, as the ``.zip`` name says).

Report definitions (inspection, no auth): ``GET /_emulator/reports`` lists them with their
files (``Inspector.reports``); ``POST`` adds one (``ReportDefinition.from_dict`` fields);
``DELETE`` removes all; each takes ``?workspace=``.
"""

from __future__ import annotations

import hashlib
import hmac

import orjson

import moengage_pipelines.emulator.auth as auth
from moengage_pipelines.emulator.call import Call
from moengage_pipelines.emulator.http import ApiError, Response
from moengage_pipelines.emulator.report_definitions import (
    ReportBook,
    ReportDefinition,
    parse_filename,
    utc_day,
)
from moengage_pipelines.emulator.report_files import build_report
from moengage_pipelines.emulator.routing import Route, Router, inspection_route
from moengage_pipelines.emulator.state import EmulatorState
from moengage_pipelines.errors import ConfigError

__all__ = ["register", "report_signature"]

CONTENT_TYPE = "application/gzip"


def report_signature(workspace_id: str, filename: str, secret_key: str) -> str:
    """``hex(sha256(APP_ID + "|" + FILENAME + "|" + SECRET_KEY))`` of UTF-8 text."""
    return hashlib.sha256(f"{workspace_id}|{filename}|{secret_key}".encode()).hexdigest()


def _bad(call: Call, attribute: str, message: str) -> ApiError:
    return call.fail(400, message, attribute=attribute)


def _signature(call: Call) -> str | None:
    value = call.request.header("signature") or call.request.query.get("Signature")
    return value.strip().lower() if value and value.strip() else None


def download(call: Call) -> Response:
    """Check the signature, name and age of the file, then answer the ZIP."""
    signature = _signature(call)
    if signature is None:
        raise call.refuse("signature_missing")
    app_id, filename = call.params["app_id"], call.params["filename"]
    keys = call.settings.workspaces.get(app_id)
    host_dc = auth.check_host(call.request, call.request_id, call.family)
    if keys is None or (host_dc is not None and host_dc != keys.dc):
        raise _bad(call, "APP_ID", f"Invalid App Id: {app_id}")
    expected = report_signature(app_id, filename, keys.campaign_api_key)
    if not hmac.compare_digest(signature, expected):
        raise call.refuse("signature_mismatch")
    auth.check_account(call.family, call.state.accounts.get(app_id), call.request_id)
    parsed = parse_filename(filename)
    if parsed is None:
        raise _bad(
            call,
            "FILENAME",
            f"Invalid report file name: {filename}. Expected <Report_name>_<YYYYMMDD>.zip",
        )
    stem, day = parsed
    definition = ReportBook(call.store, call.settings.workspace_id).find(app_id, stem)
    if definition is None or day > utc_day(call.now) or not definition.generates_on(day):
        raise _bad(call, "FILENAME", f"No report file found with the name {filename}")
    report_file = definition.file(day)
    if report_file.expired(call.now):
        raise _bad(
            call,
            "FILENAME",
            f"The requested report {filename} is older than 7 days and has expired",
        )
    content = build_report(call.store, app_id, definition, report_file)
    return Response(
        200,
        content,
        [
            ("content-type", CONTENT_TYPE),
            ("content-disposition", f'attachment; filename="{filename}"'),
        ],
    )


# -- definitions (inspection) -------------------------------------------------------------------


def _book(call: Call) -> tuple[ReportBook, str]:
    workspace = call.request.query.get("workspace") or call.settings.workspace_id
    return ReportBook(call.store, workspace), workspace


def list_reports(call: Call) -> Response:
    """Definitions of the workspace with their latest files."""
    _, workspace = _book(call)
    return call.ok(call.inspect.reports(workspace))


def define_report(call: Call) -> Response:
    """Add (or replace) a definition; answers it with its files (201)."""
    try:
        document = orjson.loads(call.request.body or b"null")
    except orjson.JSONDecodeError:
        raise call.refuse("malformed_json") from None
    book, workspace = _book(call)
    try:
        definition = ReportDefinition.from_dict(document)
    except ConfigError as exc:
        raise call.fail(400, str(exc), type="InvalidParams", attribute="report") from None
    if definition.workspace is None:
        definition = ReportDefinition.from_dict({**definition.to_dict(), "workspace": workspace})
    if definition.workspace not in call.settings.workspaces:
        raise call.fail(
            400,
            f"unknown workspace {definition.workspace}",
            type="InvalidParams",
            attribute="workspace",
        )
    return call.ok(book.define(definition).describe(call.now), status=201)


def clear_reports(call: Call) -> Response:
    """Remove every definition of the workspace."""
    book, workspace = _book(call)
    return call.ok({"removed": book.clear(workspace)})


def register(router: Router, state: EmulatorState) -> None:
    """Add the download route and the definitions' inspection routes.

    The definitions of ``EmulatorSettings.reports`` are added at start-up.
    """
    ReportBook.install(state.store)
    book = ReportBook(state.store, state.settings.workspace_id)
    for definition in state.settings.reports:
        book.define(definition)
    router.add(
        Route(
            "GET",
            "/campaign_reports/rest_api/{app_id}/{filename}",
            "campaign_report",
            download,
            family="reports",
            auth=None,
            appkey="ignored",
            json_body=False,
        )
    )
    router.add(inspection_route("GET", "/reports", list_reports))
    router.add(inspection_route("POST", "/reports", define_report))
    router.add(inspection_route("DELETE", "/reports", clear_reports))
