from __future__ import annotations

import gzip
import io
import zipfile
from datetime import date, datetime

import pyarrow as pa
import pytest

from moengage_pipelines.pull.errors import ResponseShapeError
from moengage_pipelines.pull.report_files.columns import column_names
from moengage_pipelines.pull.report_files.fetch import report_filename
from moengage_pipelines.pull.report_files.normalize import read_report

PUSH_CSV = (
    "Date,Campaign Name,Campaign ID,All Platform Sent,All Platform CTR,Android Impressions,"
    "Goal 1 Click Through Total Revenue All Platform,Created At,Tag Category: Season,Code\n"
    '2025-03-04,Spring Sale,66e9a1,1200,12.5%,800,"1,234.50",2025-03-04 10:15:00,spring,007\n'
    "2025-03-05,Spring Sale,66e9a1,900,-,750,0,2025-03-05 08:00:00,,012\n"
)
EMAIL_CSV = "Date,Campaign Name,Email Sent,Open Rate\n2025-03-04,Newsletter,500,41.2%\n"


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_filename_follows_the_documented_pattern():
    assert report_filename("Report - test", date(2021, 2, 17)) == "Report_-_test_20210217.zip"
    assert report_filename("Daily Push", date(2025, 3, 4)) == "Daily_Push_20250304.zip"


def test_headers_become_unique_snake_case_names():
    assert column_names(["All Platform Sent", "all platform sent", "", "Date", "file", "1st"]) == [
        "all_platform_sent",
        "all_platform_sent_2",
        "column_3",
        "date",
        "csv_file",
        "c_1st",
    ]


def test_zip_of_csvs_is_parsed_with_inferred_types_and_every_column_kept():
    content = _zip({"push.csv": PUSH_CSV, "email.csv": EMAIL_CSV})
    contents, batches = read_report(content, "Daily_20250306.zip", date(2025, 3, 6))
    table = pa.Table.from_batches(list(batches), schema=contents.schema)
    assert contents.members == ["push.csv", "email.csv"] and contents.rows == 3
    kinds = {column.name: column.kind for column in contents.columns}
    assert kinds["date"] == "date"
    assert kinds["all_platform_sent"] == "number"
    assert kinds["all_platform_ctr"] == "percent"
    assert kinds["goal_1_click_through_total_revenue_all_platform"] == "number"
    assert kinds["created_at"] == "timestamp"
    assert kinds["tag_category_season"] == "text"
    assert kinds["code"] == "text"  # leading zeros: an identifier
    assert kinds["open_rate"] == "percent"
    rows = table.to_pylist()
    assert rows[0]["report_date"] == date(2025, 3, 6)
    assert rows[0]["file"] == "Daily_20250306.zip" and rows[0]["member"] == "push.csv"
    assert rows[0]["all_platform_ctr"] == 12.5
    assert rows[1]["all_platform_ctr"] is None  # "-" means no value
    assert rows[0]["goal_1_click_through_total_revenue_all_platform"] == 1234.5
    assert rows[0]["created_at"] == datetime(2025, 3, 4, 10, 15)
    assert rows[0]["code"] == "007"
    email = rows[2]
    assert (email["member"], email["row_number"], email["email_sent"]) == ("email.csv", 1, 500.0)
    assert email["all_platform_sent"] is None  # column of the other CSV


def test_gzip_and_plain_csv_are_accepted():
    for content in (gzip.compress(EMAIL_CSV.encode()), EMAIL_CSV.encode("utf-8-sig")):
        contents, batches = read_report(content, "R_20250306.zip", date(2025, 3, 6))
        rows = pa.Table.from_batches(list(batches), schema=contents.schema).to_pylist()
        assert rows[0]["email_sent"] == 500.0 and rows[0]["date"] == date(2025, 3, 4)


def test_ragged_rows_keep_extra_fields_and_report_them():
    text = "A,B\n1,2\n3,4,5\n"
    contents, batches = read_report(text.encode(), "R_20250306.zip", date(2025, 3, 6))
    rows = pa.Table.from_batches(list(batches), schema=contents.schema).to_pylist()
    assert rows[1]["extra_3"] == 5.0
    assert any("line 3" in issue for issue in contents.issues)


def test_a_json_error_body_is_not_parsed_as_a_report():
    with pytest.raises(ResponseShapeError, match="neither a ZIP"):
        read_report(b'{"error": "nope"}', "R_20250306.zip", date(2025, 3, 6))
