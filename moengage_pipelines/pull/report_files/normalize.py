"""Normalize a report file: its CSVs → Arrow batches of one schema, every column kept.

Files are read twice as streams, once to name the columns and infer their types
(:func:`inspect_report`) and once to convert (:func:`read_report`), so memory holds one batch
of rows, not the report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from moengage_pipelines.pull.report_files.archive import csv_members, csv_rows
from moengage_pipelines.pull.report_files.cell_types import ColumnInference, convert_cell
from moengage_pipelines.pull.report_files.columns import (
    extend_column_names,
    member_column_names,
)

__all__ = ["ReportColumn", "ReportContents", "inspect_report", "read_report"]

_BATCH_ROWS = 10_000
_RAGGED_EXAMPLES = 5


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


def inspect_report(content: bytes, filename: str) -> ReportContents:
    """First pass: list the CSVs, name the columns and infer their types."""
    contents = ReportContents(filename)
    inferences: dict[str, ColumnInference] = {}
    headers: dict[str, str] = {}
    with csv_members(content, filename) as members:
        if not members:
            contents.issues.append(f"{filename} holds no CSV file")
        for member, opener in members:
            contents.members.append(member)
            rows = csv_rows(opener)
            header = next(rows, None)
            if header is None:
                contents.issues.append(f"{member} is empty (no header)")
                continue
            names = member_column_names(header, headers)
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
                    names = extend_column_names(names, len(row), headers)
                contents.rows += 1
                for name, cell in zip(names, row, strict=False):
                    inferences.setdefault(name, ColumnInference()).see(cell)
            for name in names:
                inferences.setdefault(name, ColumnInference())
            if ragged > _RAGGED_EXAMPLES:
                contents.issues.append(f"{member}: {ragged} rows in all have a wrong field count")
    for name, inference in inferences.items():
        kind, arrow_type = inference.result()
        contents.columns.append(ReportColumn(headers[name], name, kind, arrow_type))
    return contents


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
    with csv_members(content, filename) as members:
        for member, opener in members:
            rows = csv_rows(opener)
            header = next(rows, None)
            if header is None:
                continue
            names = member_column_names(header, headers)
            buffer: list[dict[str, Any]] = []
            number = 0
            for row in rows:
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) > len(names):
                    names = extend_column_names(names, len(row), headers)
                number += 1
                record: dict[str, Any] = {
                    "report_date": report_date,
                    "file": filename,
                    "member": member,
                    "row_number": number,
                }
                for name, cell in zip(names, row, strict=False):
                    record[name] = convert_cell(cell, kinds[name])
                buffer.append(record)
                if len(buffer) >= _BATCH_ROWS:
                    yield pa.RecordBatch.from_pylist(buffer, schema=schema)
                    buffer = []
            if buffer:
                yield pa.RecordBatch.from_pylist(buffer, schema=schema)
