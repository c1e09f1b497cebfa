"""Fetch a report file: ``<Report_name>_<YYYYMMDD>.zip`` from the report download API.

Reports are built in the dashboard ("Send report to: REST API"); the API only downloads a
generated file, named after the report (spaces as ``_``) and its *generation* date. MoEngage
keeps a file 7 days, so a file that is not there is told apart as expired or missing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Protocol

from moengage_pipelines.errors import MoEngageHTTPError
from moengage_pipelines.limits import REPORT_EXPIRY_DAYS
from moengage_pipelines.pull.errors import ReportSignatureError, ReportUnavailableError

__all__ = ["ReportClient", "download_report", "report_filename"]


class ReportClient(Protocol):
    """The part of ``MoEngageClient`` the report pull needs."""

    def download_report(self, filename: str) -> bytes:
        """GET one report file (the client signs the request)."""
        ...


def report_filename(report_name: str, generated_on: date) -> str:
    """The documented file name: spaces as ``_``, then ``_YYYYMMDD.zip``.

    ``report_filename("Report - test", date(2021, 2, 17)) == "Report_-_test_20210217.zip"``.
    """
    name = report_name.strip()
    if not name:
        raise ValueError("report name is empty")
    return f"{name.replace(' ', '_')}_{generated_on:%Y%m%d}.zip"


def download_report(
    client: ReportClient, report_name: str, generated_on: date, *, today: date | None = None
) -> tuple[str, bytes]:
    """Download one report file.

    Args:
        client: A ``MoEngageClient`` (or anything with ``download_report``).
        report_name: The report's name as configured in the dashboard.
        generated_on: The generation date in the file name.
        today: Today's date (UTC) to tell "expired" from "missing"; default: now.

    Returns:
        ``(filename, content)``.

    Raises:
        ReportUnavailableError: If MoEngage has no such file (400/404), saying whether it has
            expired (generated 7 days ago or more) or was never generated.
        ReportSignatureError: If MoEngage refused the signature (401): the message says what
            the signature is made of and which settings to check.
    """
    filename = report_filename(report_name, generated_on)
    today = today or datetime.now(UTC).date()
    try:
        return filename, client.download_report(filename)
    except MoEngageHTTPError as exc:
        if exc.status == 401:
            said = exc.message if exc.message.strip() not in ("", "{}") else "an empty body"
            raise ReportSignatureError(
                f"MoEngage refused the signature of report file {filename} (401, {said}). The "
                "Signature header is sha256 of '<workspace id>|<file name>|<key>': check that "
                "MOENGAGE_WORKSPACE_ID is the workspace the report belongs to and that "
                "MOENGAGE_CAMPAIGN_API_KEY is its 'Campaign report/Business events/Custom "
                "templates' key (the one campaign stats use), not the Data API key.",
                filename=filename,
            ) from exc
        if exc.status not in (400, 404, 410):
            raise
        age = (today - generated_on).days
        said_expired = any(word in exc.message.lower() for word in ("expire", "older"))
        if age >= REPORT_EXPIRY_DAYS or said_expired:
            raise ReportUnavailableError(
                f"report file {filename} has expired: its generation date is {age} days ago and "
                f"MoEngage keeps report files {REPORT_EXPIRY_DAYS} days (MoEngage said: "
                f"{exc.message}). Schedule the pull sooner, or regenerate the report.",
                filename=filename,
                reason="expired",
            ) from exc
        raise ReportUnavailableError(
            f"report file {filename} is not available (MoEngage answered {exc.status}: "
            f"{exc.message}). Check that the report named {report_name!r} exists, is set to "
            "'Send report to: REST API', and was generated on "
            f"{generated_on:%Y-%m-%d} (the date in the name is the generation date).",
            filename=filename,
            reason="missing",
        ) from exc
