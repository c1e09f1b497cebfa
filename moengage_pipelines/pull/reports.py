"""Campaign report files: download ``<Report_name>_<YYYYMMDD>.zip``, unzip, parse the CSVs.

Reports are built in the dashboard ("Send report to: REST API"); the API only downloads a
generated file, named after the report (spaces as ``_``) and its *generation* date. MoEngage
keeps a file 7 days. The CSV columns are not documented, so every column is kept: headers
become snake_case names, and each column's type is inferred over the whole file (numbers,
percentages, dates, timestamps, else text).

Files are read twice as streams, once to infer the types and once to convert, so memory
holds one batch of rows, not the report.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import pyarrow as pa

from moengage_pipelines.errors import MoEngageHTTPError
from moengage_pipelines.limits import REPORT_EXPIRY_DAYS
from moengage_pipelines.pull.errors import ReportUnavailableError, ResponseShapeError

__all__ = [
    "RESERVED_COLUMNS",
    "ReportClient",
    "ReportColumn",
    "ReportContents",
    "column_names",
    "download_report",
    "inspect_report",
    "read_report",
    "report_filename",
]

logger = logging.getLogger(__name__)

RESERVED_COLUMNS = ("report_date", "file", "member", "row_number")
"""Columns the pull adds to every report table; a CSV column of the same name gets ``csv_``."""

_BATCH_ROWS = 10_000
_RAGGED_EXAMPLES = 5
_NULL_TOKENS = frozenset({"", "-", "--", "na", "n/a", "null", "none", "nan", "nil"})
_INTEGER = re.compile(r"^[+-]?(0|[1-9]\d*)$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DECIMAL = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")
_DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d-%b-%Y", "%b %d, %Y", "%d %B %Y", "%B %d, %Y")
_TIMESTAMP_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d %H:%M",
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


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
    """
    filename = report_filename(report_name, generated_on)
    today = today or datetime.now(UTC).date()
    try:
        return filename, client.download_report(filename)
    except MoEngageHTTPError as exc:
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


@dataclass(frozen=True)
class ReportColumn:
    """One CSV column and the type inferred for it.

    Attributes:
        header: The header as written in the CSV.
        name: The warehouse column name (snake_case, unique).
        kind: ``"number"``, ``"percent"``, ``"date"``, ``"timestamp"`` or ``"text"``.
        arrow_type: The Arrow type of the column.
    """

    header: str
    name: str
    kind: str
    arrow_type: pa.DataType


@dataclass
class ReportContents:
    """What a report file holds, after the inference pass.

    Attributes:
        filename: The downloaded file name.
        members: CSV files inside it, in order.
        columns: Union of the columns of every CSV, in order of first appearance.
        rows: Data rows over every CSV.
        issues: Things worth a warning (no CSV inside, short rows...).
    """

    filename: str
    members: list[str] = field(default_factory=list)
    columns: list[ReportColumn] = field(default_factory=list)
    rows: int = 0
    issues: list[str] = field(default_factory=list)

    @property
    def schema(self) -> pa.Schema:
        """Schema of the batches :func:`read_report` yields."""
        return pa.schema(
            [
                pa.field("report_date", pa.date32()),
                pa.field("file", pa.string()),
                pa.field("member", pa.string()),
                pa.field("row_number", pa.int64()),
                *[pa.field(column.name, column.arrow_type) for column in self.columns],
            ]
        )


def column_names(headers: Sequence[str], taken: Sequence[str] = ()) -> list[str]:
    """Warehouse names for CSV headers: snake_case, unique, never a reserved name.

    ``"All Platform Sent"`` → ``all_platform_sent``; an empty header → ``column_<n>``; a
    repeat gets ``_2``, ``_3``...; ``report_date`` → ``csv_report_date``.
    """
    used = set(RESERVED_COLUMNS) | set(taken)
    names = []
    for position, header in enumerate(headers, start=1):
        name = _column_name(header, position, used)
        used.add(name)
        names.append(name)
    return names


def _column_name(header: str, position: int, used: set[str]) -> str:
    base = _NOT_WORD.sub("_", header.strip().lower()).strip("_") or f"column_{position}"
    if base[0].isdigit():
        base = f"c_{base}"
    if base in RESERVED_COLUMNS:
        base = f"csv_{base}"
    name, suffix = base, 2
    while name in used:
        name, suffix = f"{base}_{suffix}", suffix + 1
    return name


class _Inference:
    """Narrows the possible type of one column value by value."""

    ORDER = ("number", "percent", "date", "timestamp")

    def __init__(self) -> None:
        self.kinds: set[str] = set()
        self.text = False
        self.date_format: str | None = None

    def see(self, raw: str) -> None:
        if self.text:
            return
        value = raw.strip()
        if value.lower() in _NULL_TOKENS:
            return
        kind = _classify(value)
        if kind == "text":
            self.text = True
            return
        self.kinds.add(kind)

    def result(self) -> tuple[str, pa.DataType]:
        kinds = self.kinds
        if self.text or not kinds:
            return "text", pa.string()
        if kinds <= {"number"}:
            # Numbers are DOUBLE even when whole, so a column keeps one type across files.
            return "number", pa.float64()
        if kinds <= {"number", "percent"}:
            return "percent", pa.float64()
        if kinds <= {"date"}:
            return "date", pa.date32()
        if kinds <= {"date", "timestamp"}:
            return "timestamp", pa.timestamp("us")
        return "text", pa.string()


def _classify(value: str) -> str:
    if value.endswith("%"):
        return "percent" if _number(value[:-1].strip()) is not None else "text"
    if _INTEGER.match(value) or _DECIMAL.match(value) or _GROUPED.match(value):
        digits = value.lstrip("+-")
        # "00123" is an identifier, not 123.
        if len(digits) > 1 and digits.startswith("0") and not digits.startswith("0."):
            return "text"
        return "number"
    if _parse_date(value) is not None:
        return "date"
    if _parse_timestamp(value) is not None:
        return "timestamp"
    return "text"


def _number(value: str) -> float | None:
    text = value.replace(",", "") if _GROUPED.match(value) else value
    if _INTEGER.match(text) or _DECIMAL.match(text):
        return float(text)
    return None


def _parse_date(value: str) -> date | None:
    for layout in _DATE_FORMATS:
        try:
            return datetime.strptime(value, layout).date()
        except ValueError:
            pass
    return None


def _parse_timestamp(value: str) -> datetime | None:
    for layout in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(value, layout)
        except ValueError:
            pass
    return None


def _convert(raw: str, kind: str) -> Any:
    value = raw.strip()
    if kind == "text":
        return raw if value else None
    if value.lower() in _NULL_TOKENS:
        return None
    if kind in ("number", "percent"):
        return _number(value.removesuffix("%").strip())
    if kind == "date":
        return _parse_date(value)
    parsed = _parse_timestamp(value)
    if parsed is not None:
        return parsed
    day = _parse_date(value)
    return datetime(day.year, day.month, day.day) if day else None


@contextmanager
def _open_members(content: bytes, filename: str) -> Iterator[list[tuple[str, Any]]]:
    """Yield ``(member_name, opener)`` pairs for every CSV in the downloaded file."""
    if zipfile.is_zipfile(io.BytesIO(content)):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [
                info.filename
                for info in archive.infolist()
                if not info.is_dir()
                and info.filename.lower().endswith((".csv", ".txt"))
                and not info.filename.startswith("__MACOSX/")
            ]
            yield [(name, (lambda n=name: archive.open(n))) for name in names]
        return
    stem = re.sub(r"\.(zip|gz|gzip)$", "", filename, flags=re.IGNORECASE)
    if content[:2] == b"\x1f\x8b":
        # The opener is entered with a context manager by _rows.
        yield [(f"{stem}.csv", lambda: gzip.open(io.BytesIO(content)))]  # noqa: SIM115
        return
    if content[:1] in (b"{", b"<") or b"\x00" in content[:512]:
        raise ResponseShapeError(
            f"report file {filename} is neither a ZIP nor a gzip nor CSV text "
            f"(starts with {content[:16]!r}); nothing was written"
        )
    yield [(f"{stem}.csv", lambda: io.BytesIO(content))]


def _rows(opener: Any) -> Iterator[list[str]]:
    with opener() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        yield from csv.reader(text)


def inspect_report(content: bytes, filename: str) -> ReportContents:
    """First pass: list the CSVs, name the columns and infer their types."""
    contents = ReportContents(filename)
    inferences: dict[str, _Inference] = {}
    headers: dict[str, str] = {}
    with _open_members(content, filename) as members:
        if not members:
            contents.issues.append(f"{filename} holds no CSV file")
        for member, opener in members:
            contents.members.append(member)
            rows = _rows(opener)
            header = next(rows, None)
            if header is None:
                contents.issues.append(f"{member} is empty (no header)")
                continue
            names = _member_names(header, headers)
            ragged = 0
            for line, row in enumerate(rows, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    ragged += 1
                    if ragged <= _RAGGED_EXAMPLES:
                        contents.issues.append(
                            f"{member} line {line}: {len(row)} fields for {len(header)} "
                            "columns; missing fields are NULL, extra fields are kept as extra_<n>"
                        )
                    names = _extend_names(names, len(row), headers)
                contents.rows += 1
                for name, cell in zip(names, row, strict=False):
                    inferences.setdefault(name, _Inference()).see(cell)
            for name in names:
                inferences.setdefault(name, _Inference())
            if ragged > _RAGGED_EXAMPLES:
                contents.issues.append(f"{member}: {ragged} rows in all have a wrong field count")
    for name, inference in inferences.items():
        kind, arrow_type = inference.result()
        contents.columns.append(ReportColumn(headers[name], name, kind, arrow_type))
    return contents


def _member_names(header: list[str], headers: dict[str, str]) -> list[str]:
    """Names of one CSV's columns; a header already seen in another CSV keeps its name.

    ``headers`` maps every name given so far to its header text and is updated in place, so
    both passes over the file, making the same calls in the same order, get the same names.
    """
    by_header: dict[str, str] = {}
    for name, text in headers.items():
        by_header.setdefault(text, name)
    names: list[str] = []
    for position, text in enumerate(header, start=1):
        name = by_header.get(text)
        if name is None or name in names:
            name = _column_name(text, position, set(RESERVED_COLUMNS) | set(headers))
            headers[name] = text
        names.append(name)
    return names


def _extend_names(names: list[str], width: int, headers: dict[str, str]) -> list[str]:
    names = list(names)
    while len(names) < width:
        extra = f"extra_{len(names) + 1}"
        headers.setdefault(extra, extra)
        names.append(extra)
    return names


def read_report(
    content: bytes, filename: str, report_date: date, contents: ReportContents | None = None
) -> tuple[ReportContents, Iterator[pa.RecordBatch]]:
    """Parse a downloaded report file into Arrow batches with one schema.

    Args:
        content: The downloaded bytes (ZIP of CSVs, gzip of a CSV, or CSV text).
        filename: The file name, stored in the ``file`` column.
        report_date: The generation date, stored in ``report_date``.
        contents: The result of a previous :func:`inspect_report`, to skip the first pass.

    Returns:
        ``(contents, batches)``: the inferred columns, and a lazy stream of batches.
    """
    contents = contents or inspect_report(content, filename)
    return contents, _batches(content, filename, report_date, contents)


def _batches(
    content: bytes, filename: str, report_date: date, contents: ReportContents
) -> Iterator[pa.RecordBatch]:
    schema = contents.schema
    kinds = {column.name: column.kind for column in contents.columns}
    headers: dict[str, str] = {}
    with _open_members(content, filename) as members:
        for member, opener in members:
            rows = _rows(opener)
            header = next(rows, None)
            if header is None:
                continue
            names = _member_names(header, headers)
            buffer: list[dict[str, Any]] = []
            number = 0
            for row in rows:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(names):
                    names = _extend_names(names, len(row), headers)
                number += 1
                record: dict[str, Any] = {
                    "report_date": report_date,
                    "file": filename,
                    "member": member,
                    "row_number": number,
                }
                for name, cell in zip(names, row, strict=False):
                    record[name] = _convert(cell, kinds[name])
                buffer.append(record)
                if len(buffer) >= _BATCH_ROWS:
                    yield pa.RecordBatch.from_pylist(buffer, schema=schema)
                    buffer = []
            if buffer:
                yield pa.RecordBatch.from_pylist(buffer, schema=schema)
