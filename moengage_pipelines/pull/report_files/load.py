"""Load a report file: download, read, and replace its rows in ``moengage_report_<name>``.

The rows of the file's generation date are replaced. A missing or expired file writes nothing
(rows loaded earlier stay) and comes back as a report with ``status`` ``missing`` /
``expired``.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pyarrow as pa

from moengage_pipelines.pull.errors import PullError, ReportUnavailableError
from moengage_pipelines.pull.report_files.fetch import ReportClient, download_report
from moengage_pipelines.pull.report_files.normalize import read_report
from moengage_pipelines.pull.report_files.table import report_table_name
from moengage_pipelines.warehouse import Warehouse

__all__ = ["ReportPullReport", "pull_report"]

logger = logging.getLogger(__name__)


@dataclass
class ReportPullReport:
    """What pulling one report file did.

    Attributes:
        report_name: The report's name.
        generated_on: Generation date in the file name.
        filename: The file asked for.
        status: ``ok``, ``missing`` or ``expired``.
        message: Why the file was not loaded (empty when ``ok``).
        table: The table written.
        rows: Rows written.
        members: CSV files in the download.
        columns: Column name → inferred kind.
        issues: Warnings about the file's contents.
        schema: Arrow schema of the rows written (None when nothing was).
    """

    report_name: str
    generated_on: date
    filename: str
    status: str = "ok"
    message: str = ""
    table: str = ""
    rows: int = 0
    members: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    issues: list[str] = field(default_factory=list)
    schema: pa.Schema | None = None

    @property
    def present(self) -> bool:
        """True when the file was downloaded."""
        return self.status == "ok"

    def to_metadata(self) -> dict[str, Any]:
        """Plain values for run metadata or a CLI summary."""
        return {
            "report_name": self.report_name,
            "generated_on": self.generated_on.isoformat(),
            "file": self.filename,
            "status": self.status,
            "message": self.message,
            "table": self.table,
            "rows": self.rows,
            "members": self.members,
            "columns": self.columns,
            "issues": self.issues[:20],
        }


def pull_report(
    client: ReportClient,
    warehouse: Warehouse,
    report_name: str,
    generated_on: date,
    *,
    today: date | None = None,
) -> ReportPullReport:
    """Download one report file and replace its rows in ``moengage_report_<name>``.

    Args:
        client: A ``MoEngageClient``.
        warehouse: Where the report table lives.
        report_name: The report's name as configured in the dashboard.
        generated_on: The generation date in the file name.
        today: Today (UTC), to tell an expired file from a missing one.

    Returns:
        The outcome; ``status`` is ``missing`` or ``expired`` (and nothing is written) when
        MoEngage has no such file.

    Raises:
        PullError: If the file's columns cannot be stored in the existing table's types.
    """
    table = report_table_name(report_name)
    try:
        filename, content = download_report(client, report_name, generated_on, today=today)
    except ReportUnavailableError as exc:
        logger.warning("campaign report: %s", exc)
        return ReportPullReport(
            report_name,
            generated_on,
            exc.filename,
            status=exc.reason,
            message=str(exc),
            table=table,
        )
    contents, batches = read_report(content, filename, generated_on)
    schema = contents.schema
    existing = warehouse.table_schema(table) if warehouse.table_exists(table) else None
    conformed = _conform(batches, schema, existing, table)
    # An empty first batch carries the schema, so a file with no rows still creates the table.
    first = pa.RecordBatch.from_pylist([], schema=_target_schema(schema, existing))
    rows = warehouse.replace_rows(
        table, itertools.chain([first], conformed), where={"report_date": generated_on}
    )
    result = ReportPullReport(
        report_name,
        generated_on,
        filename,
        table=table,
        rows=rows,
        members=contents.members,
        columns={column.name: column.kind for column in contents.columns},
        issues=contents.issues,
        schema=_target_schema(schema, existing),
    )
    for issue in contents.issues:
        logger.warning("campaign report %s: %s", filename, issue)
    return result


def _target_schema(schema: pa.Schema, existing: pa.Schema | None) -> pa.Schema:
    """The batch schema, with each column already in the table typed as the table has it."""
    if existing is None:
        return schema
    fields = []
    for column in schema:
        index = existing.get_field_index(column.name)
        fields.append(column if index < 0 else pa.field(column.name, existing.field(index).type))
    return pa.schema(fields)


def _conform(
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    existing: pa.Schema | None,
    table: str,
) -> Iterator[pa.RecordBatch]:
    target = _target_schema(schema, existing)
    if target.equals(schema):
        yield from batches
        return
    for batch in batches:
        arrays = []
        for column, wanted in zip(batch.columns, target, strict=True):
            if column.type.equals(wanted.type):
                arrays.append(column)
                continue
            try:
                arrays.append(column.cast(wanted.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                example = next((v for v in column.to_pylist() if v is not None), None)
                raise PullError(
                    f"column {wanted.name!r} of {table} is {wanted.type} from earlier files, "
                    f"but this file holds {column.type} values such as {example!r} that do not "
                    f"convert ({exc}). Rename the column in the report or load it into a new "
                    "table."
                ) from exc
        yield pa.RecordBatch.from_arrays(arrays, schema=target)
