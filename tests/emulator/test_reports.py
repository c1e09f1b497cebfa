"""Campaign report download: signature, file names, expiry, definitions and CSV content."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from datetime import UTC, date, datetime

import httpx
import orjson
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator import (
    Emulator,
    EmulatorSettings,
    ReportBook,
    ReportDefinition,
    WorkspaceKeys,
    serve,
)
from moengage_pipelines.emulator.campaign_catalog import catalogue
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.report_definitions import ENV_REPORTS
from moengage_pipelines.emulator.report_files import EMAIL_COLUMNS, PUSH_COLUMNS, SMS_COLUMNS
from moengage_pipelines.errors import ConfigError
from moengage_pipelines.pull.report_files.normalize import read_report
from tests.emulator.conftest import BASE_URL, CAMPAIGN_KEY, DATA_KEY, WORKSPACE

NOON = datetime(2025, 3, 10, 12, tzinfo=UTC).timestamp()


def signature(filename: str, workspace: str = WORKSPACE, key: str = CAMPAIGN_KEY) -> str:
    return hashlib.sha256(f"{workspace}|{filename}|{key}".encode()).hexdigest()


@pytest.fixture
def moengage_clock() -> FakeClock:
    return FakeClock(start=NOON)


@pytest.fixture
def emu(moengage_emulator_factory, moengage_clock) -> Emulator:
    return moengage_emulator_factory(clock=moengage_clock)


@pytest.fixture
def plain(emu) -> httpx.Client:
    with httpx.Client(transport=emu.transport(), base_url=BASE_URL) as client:
        yield client


def define(plain: httpx.Client, **fields) -> httpx.Response:
    document = {"name": "Daily Push", "generated_on": "2025-03-09", "schedule": "daily", **fields}
    return plain.post("/_emulator/reports", json=document)


def download(plain: httpx.Client, filename: str, workspace: str = WORKSPACE, **headers):
    headers.setdefault("Signature", signature(filename, workspace))
    return plain.get(f"/campaign_reports/rest_api/{workspace}/{filename}", headers=headers)


def send_activity(emu: Emulator, day: str, users: int = 30) -> None:
    """Users with email and mobile; each opens the app on Android and buys on iOS or Android."""
    elements = []
    for number in range(users):
        platform = "ANDROID" if number % 2 else "iOS"
        elements.append(
            {
                "type": "customer",
                "customer_id": f"u{number}",
                "attributes": {"email": f"u{number}@example.com", "mobile": "919900000000"},
            }
        )
        elements.append(
            {
                "type": "event",
                "customer_id": f"u{number}",
                "actions": [
                    {
                        "action": "Purchase",
                        "platform": platform,
                        "current_time": f"{day}T10:00:00Z",
                        "attributes": {"revenue": 10},
                    },
                    {
                        "action": "App Opened",
                        "platform": "ANDROID",
                        "current_time": f"{day}T11:00:00Z",
                    },
                ],
            }
        )
    with httpx.Client(
        transport=emu.transport(), base_url=BASE_URL, auth=(WORKSPACE, DATA_KEY)
    ) as client:
        answer = client.post(
            f"/v1/transition/{WORKSPACE}", json={"type": "transition", "elements": elements}
        )
    assert answer.status_code == 200


def csv_members(content: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
        }


def headers_of(content: bytes) -> dict[str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: next(csv.reader(io.StringIO(archive.read(name).decode("utf-8"))))
            for name in archive.namelist()
        }


# -- download --------------------------------------------------------------------------------


def test_a_fresh_report_is_a_zip_with_one_csv_per_channel(emu, plain):
    send_activity(emu, "2025-03-08")
    assert define(plain).status_code == 201
    answer = download(plain, "Daily_Push_20250309.zip")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/gzip"
    assert 'filename="Daily_Push_20250309.zip"' in answer.headers["content-disposition"]
    assert headers_of(answer.content) == {
        "Daily_Push_20250309_push.csv": list(PUSH_COLUMNS),
        "Daily_Push_20250309_email.csv": list(EMAIL_COLUMNS),
        "Daily_Push_20250309_sms.csv": list(SMS_COLUMNS),
    }
    members = csv_members(answer.content)
    push = members["Daily_Push_20250309_push.csv"]
    assert {row["Date"] for row in push} == {"2025-03-08"}  # the day before generation
    welcome = next(row for row in push if row["Campaign Name"] == "Welcome Push")
    assert welcome["Month"] == "March 2025"
    assert welcome["Conversion Goal 1 Event"] == "App Opened"
    # 15 Android-only users + 15 users on both: 30 reached on Android, 15 on iOS. The 15 with
    # two Android events clicked, so failures come from the other 15 only.
    assert welcome["Android Sent"] == str(30 - (30 - 15) // 20)
    assert welcome["Android Clicks"] == "15"
    assert welcome["Ios Sent"] == str(15 - 15 // 20)
    assert welcome["All Platform Sent"] == str(
        int(welcome["Android Sent"]) + int(welcome["Ios Sent"])
    )
    assert welcome["Web Sent"] == "0"


def test_report_numbers_agree_with_the_stats_api_for_that_day(emu, plain):
    send_activity(emu, "2025-03-08")
    define(plain)
    rows = csv_members(download(plain, "Daily_Push_20250309.zip").content)
    campaign = next(c for c in catalogue(WORKSPACE) if c.name == "Cart Abandonment Push")
    with httpx.Client(
        transport=emu.transport(),
        base_url=BASE_URL,
        auth=(WORKSPACE, CAMPAIGN_KEY),
        headers={"MOE-APPKEY": WORKSPACE},
    ) as client:

        def stats(attribution: str) -> dict:
            answer = client.post(
                "/core-services/v1/campaign-stats",
                json={
                    "request_id": "r",
                    "campaign_ids": [campaign.campaign_id],
                    "start_date": "2025-03-08",
                    "end_date": "2025-03-08",
                    "attribution_type": attribution,
                    "metric_type": "TOTAL",
                },
            )
            platforms = answer.json()["data"][campaign.campaign_id][0]["platforms"]
            return {
                key: value["locales"]["all_locales"]["variations"]["all_variations"]
                for key, value in platforms.items()
            }

        view, click = stats("VIEW_THROUGH"), stats("CLICK_THROUGH")
    row = next(
        r for r in rows["Daily_Push_20250309_push.csv"] if r["Campaign ID"] == campaign.campaign_id
    )
    for key, label in (("android", "Android"), ("ios", "Ios")):
        performance = view[key]["performance_stats"]
        assert int(row[f"{label} Sent"]) == performance["sent"]
        assert int(row[f"{label} Impressions"]) == performance["impression"]
        assert int(row[f"{label} Clicks"]) == performance["click"]
        assert float(row[f"{label} CTR"]) == performance["ctr"]
        click_goal = click[key]["conversion_goal_stats"]["Purchase"]
        view_goal = view[key]["conversion_goal_stats"]["Purchase"]
        assert (
            int(row[f"Goal 1 Click Through Conversion Events {label}"]) == click_goal["conversions"]
        )
        assert float(row[f"Goal 1 Click Through Total Revenue {label}"]) == click_goal["revenue"]
        assert (
            int(row[f"Goal 1 View Through Conversion Events {label}"]) == view_goal["conversions"]
        )
        assert float(row[f"Goal 1 View Through Total Revenue {label}"]) == view_goal["revenue"]
    assert int(row["Goal 1 View Through Conversion Events All Platform"]) == sum(
        view[k]["conversion_goal_stats"]["Purchase"]["conversions"] for k in ("android", "ios")
    )
    assert int(row["Goal 1 View Through Conversion Events All Platform"]) > 0


def test_files_are_deterministic_and_follow_the_data(emu, plain):
    define(plain)
    empty = download(plain, "Daily_Push_20250309.zip").content
    assert all(rows == [] for rows in csv_members(empty).values())  # headers only
    send_activity(emu, "2025-03-08")
    first = download(plain, "Daily_Push_20250309.zip").content
    again = download(plain, "Daily_Push_20250309.zip").content
    assert first == again and first != empty
    send_activity(emu, "2025-03-07")  # outside the file's one-day range
    assert download(plain, "Daily_Push_20250309.zip").content == first


def test_signature_in_the_query_and_in_any_case_is_accepted(emu, plain):
    define(plain)
    filename = "Daily_Push_20250309.zip"
    by_query = plain.get(
        f"/campaign_reports/rest_api/{WORKSPACE}/{filename}",
        params={"Signature": signature(filename)},
    )
    assert by_query.status_code == 200
    upper = download(plain, filename, Signature=signature(filename).upper())
    assert upper.status_code == 200


@pytest.mark.parametrize(
    "sent",
    [
        None,
        "deadbeef",
        signature("Daily_Push_20250309.zip", key=DATA_KEY),  # the data key does not sign
        signature("Daily_Push_20250310.zip"),  # another file's signature
    ],
)
def test_missing_or_wrong_signature_is_401(emu, plain, sent):
    define(plain)
    url = f"/campaign_reports/rest_api/{WORKSPACE}/Daily_Push_20250309.zip"
    answer = plain.get(url, headers={} if sent is None else {"Signature": sent})
    assert answer.status_code == 401
    assert answer.json() == {}


def test_wrong_app_id_is_400(emu, plain):
    define(plain)
    answer = download(plain, "Daily_Push_20250309.zip", workspace="NOT_A_WORKSPACE")
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["attribute"], error["type"]) == ("APP_ID", "BAD REQUEST")
    assert error["request_id"]
    # The workspace lives in data centre 01: on api-02 its id is unknown.
    with httpx.Client(transport=emu.transport(), base_url="https://api-02.moengage.com") as eu:
        elsewhere = download(eu, "Daily_Push_20250309.zip")
    assert elsewhere.status_code == 400 and elsewhere.json()["error"]["attribute"] == "APP_ID"


@pytest.mark.parametrize(
    ("filename", "fragment"),
    [
        ("report.zip", "Invalid report file name"),
        ("Daily_Push_2025039.zip", "Invalid report file name"),
        ("Daily_Push_20250230.zip", "Invalid report file name"),  # no such date
        ("Daily_Push_20250309.csv", "Invalid report file name"),
        ("Weekly_Push_20250309.zip", "No report file found"),  # no such report
        ("Daily Push_20250309.zip", "No report file found"),  # spaces are underscores
        ("Daily_Push_20250311.zip", "No report file found"),  # not generated yet
        ("Daily_Push_20250308.zip", "No report file found"),  # before the first generation
    ],
)
def test_bad_file_names_are_400(emu, plain, filename, fragment):
    define(plain)
    answer = download(plain, filename)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["attribute"] == "FILENAME" and error["type"] == "BAD REQUEST"
    assert fragment in error["message"]


def test_a_file_expires_seven_days_after_generation(emu, plain, moengage_clock):
    define(plain, schedule="one_time", generated_on="2025-03-03")
    moengage_clock.now = datetime(
        2025, 3, 9, 23, 59, 59, tzinfo=UTC
    ).timestamp()  # 6 days 23:59:59 old
    assert download(plain, "Daily_Push_20250303.zip").status_code == 200
    moengage_clock.now = datetime(2025, 3, 10, 0, 0, 0, tzinfo=UTC).timestamp()  # 7 days old
    expired = download(plain, "Daily_Push_20250303.zip")
    assert expired.status_code == 400
    assert "older than 7 days" in expired.json()["error"]["message"]


def test_report_names_become_file_names_with_underscores(emu, plain):
    define(plain, name="Report - test", schedule="one_time", generated_on="2025-03-05")
    assert download(plain, "Report_-_test_20250305.zip").status_code == 200


def test_a_weekly_report_generates_only_on_its_days(emu, plain):
    define(plain, name="Weekly", schedule="weekly", generated_on="2025-02-25", range_days=7)
    assert download(plain, "Weekly_20250304.zip").status_code == 200
    assert download(plain, "Weekly_20250305.zip").status_code == 400
    send_activity(emu, "2025-02-28")
    send_activity(emu, "2025-03-04")  # the generation day itself is not in the range
    rows = csv_members(download(plain, "Weekly_20250304.zip").content)["Weekly_20250304_push.csv"]
    assert {row["Date"] for row in rows} == {"2025-02-28"}  # inside 2025-02-25..2025-03-03


def test_channels_choose_the_csvs(emu, plain):
    define(plain, name="Email only", channels=["EMAIL"])
    content = download(plain, "Email_only_20250310.zip").content
    assert list(headers_of(content)) == ["Email_only_20250310_email.csv"]


def test_other_workspaces_sign_with_their_own_key(moengage_emulator_factory, moengage_clock):
    emu = moengage_emulator_factory(
        clock=moengage_clock, extra_workspaces={"OTHER": WorkspaceKeys("d2", "c2")}
    )
    with httpx.Client(transport=emu.transport(), base_url=BASE_URL) as plain:
        define(plain)  # main workspace
        assert (
            plain.post(
                "/_emulator/reports",
                params={"workspace": "OTHER"},
                json={"name": "Theirs", "generated_on": "2025-03-10"},
            ).status_code
            == 201
        )
        filename = "Theirs_20250310.zip"
        assert (
            download(
                plain, filename, "OTHER", Signature=signature(filename, "OTHER", "c2")
            ).status_code
            == 200
        )
        assert download(plain, filename, Signature=signature(filename)).status_code == 400
        mine = "Daily_Push_20250309.zip"
        wrong_key = download(plain, mine, "OTHER", Signature=signature(mine, "OTHER", CAMPAIGN_KEY))
        assert wrong_key.status_code == 401


# -- definitions ---------------------------------------------------------------------------------


def test_definitions_are_listed_with_their_files_and_survive_reset(emu, plain, moengage_clock):
    define(plain, schedule="daily", generated_on="2025-03-01")
    listed = plain.get("/_emulator/reports").json()
    [report] = listed
    assert report["name"] == "Daily Push" and report["range_days"] == 1
    files = report["files"]
    assert files[0]["filename"] == "Daily_Push_20250310.zip" and not files[0]["expired"]
    assert files[-1]["filename"] == "Daily_Push_20250301.zip" and files[-1]["expired"]
    assert sum(not f["expired"] for f in files) == 7
    plain.post("/_emulator/reset")
    assert len(plain.get("/_emulator/reports").json()) == 1
    assert plain.delete("/_emulator/reports").json() == {"removed": 1}
    assert plain.get("/_emulator/reports").json() == []
    assert download(plain, "Daily_Push_20250310.zip").status_code == 400


def test_defining_a_report_again_replaces_it(emu, plain):
    define(plain, schedule="one_time", generated_on="2025-03-05")
    define(plain, schedule="one_time", generated_on="2025-03-06")
    assert download(plain, "Daily_Push_20250305.zip").status_code == 400
    assert download(plain, "Daily_Push_20250306.zip").status_code == 200


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"schedule": "hourly"}, "schedule"),
        ({"channels": ["FAX"]}, "channels"),
        ({"range_days": 91}, "range_days must be 1..90"),
        ({"range_days": 0}, "range_days"),
        ({"generated_on": "10/03/2025"}, "generated_on"),
        ({"name": ""}, "name"),
        ({"name": "a/b"}, "path separator"),
        ({"colour": "red"}, "unknown report fields: colour"),
    ],
)
def test_invalid_definitions_are_refused(emu, plain, fields, fragment):
    answer = define(plain, **fields)
    assert answer.status_code == 400
    assert fragment in answer.json()["error"]["message"]


def test_ninety_days_is_the_largest_range(emu, plain):
    assert define(plain, range_days=90).status_code == 201
    report = plain.get("/_emulator/reports").json()[0]
    assert report["files"][0]["data_from"] == "2024-12-10"  # 90 days before 2025-03-10


def test_generation_days_of_each_schedule():
    monthly = ReportDefinition("M", date(2025, 1, 31), "monthly")
    assert list(monthly.generation_days(date(2025, 4, 30))) == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    weekly = ReportDefinition("W", date(2025, 3, 1), "weekly")
    assert list(weekly.generation_days(date(2025, 3, 15))) == [
        date(2025, 3, 1),
        date(2025, 3, 8),
        date(2025, 3, 15),
    ]
    once = ReportDefinition("O", date(2025, 3, 1))
    assert list(once.generation_days(date(2025, 2, 28))) == []
    assert once.days == 7 and weekly.days == 7 and monthly.days == 30


def test_definitions_from_the_environment(tmp_path, moengage_clock):
    document = [{"name": "Env Report", "generated_on": "2025-03-10", "channels": "SMS"}]
    environ = {ENV_REPORTS: orjson.dumps(document).decode()}
    settings = EmulatorSettings.from_env(environ, clock=moengage_clock)
    assert [(d.name, d.channels) for d in settings.reports] == [("Env Report", ("SMS",))]
    with Emulator(settings) as emu:
        [definition] = ReportBook(emu.store, WORKSPACE).definitions()
        assert (definition.name, definition.channels) == ("Env Report", ("SMS",))
    path = tmp_path / "reports.json"
    path.write_bytes(orjson.dumps([{**document[0], "name": "From File"}]))
    with Emulator(
        EmulatorSettings.from_env({ENV_REPORTS: f"@{path}"}, clock=moengage_clock)
    ) as emu:
        assert [d.name for d in ReportBook(emu.store, WORKSPACE).definitions()] == ["From File"]
    # An explicit value wins over the variable.
    assert EmulatorSettings.from_env(environ, reports=()).reports == ()
    with pytest.raises(ConfigError, match="generated_on"):
        EmulatorSettings.from_env({ENV_REPORTS: '[{"name": "x"}]'})
    with pytest.raises(ConfigError, match=f"{ENV_REPORTS}: cannot read"):
        EmulatorSettings.from_env({ENV_REPORTS: f"@{tmp_path / 'missing.json'}"})


def test_settings_reports_are_defined_at_start_up_for_their_workspaces(moengage_clock):
    settings = EmulatorSettings(
        clock=moengage_clock,
        extra_workspaces={"OTHER": WorkspaceKeys("other-data", "other-campaign")},
        reports=(
            ReportDefinition("Daily Push", date(2025, 3, 9), "daily", channels=("PUSH",)),
            ReportDefinition("Other Weekly", date(2025, 3, 3), "weekly", workspace="OTHER"),
        ),
    )
    with Emulator(settings) as emu:
        [main] = emu.inspect.reports()
        [other] = emu.inspect.reports("OTHER")
    assert (main["name"], main["workspace"], main["channels"]) == (
        "Daily Push",
        WORKSPACE,
        ["PUSH"],
    )
    assert [f["filename"] for f in main["files"]] == [
        "Daily_Push_20250310.zip",
        "Daily_Push_20250309.zip",
    ]
    assert (other["name"], other["workspace"], other["files"][0]["data_to"]) == (
        "Other Weekly",
        "OTHER",
        "2025-03-09",
    )


def test_settings_refuse_reports_of_unknown_workspaces_and_other_values():
    with pytest.raises(ConfigError, match="workspace 'NOPE'"):
        EmulatorSettings(reports=(ReportDefinition("R", date(2025, 3, 1), workspace="NOPE"),))
    with pytest.raises(ConfigError, match="ReportDefinition"):
        EmulatorSettings(reports=({"name": "R", "generated_on": "2025-03-01"},))


def test_the_inspector_and_the_http_view_list_the_same_reports(emu, plain):
    assert emu.inspect.reports() == []
    assert define(plain).status_code == 201
    listed = emu.inspect.reports()
    assert [r["name"] for r in listed] == ["Daily Push"]
    assert plain.get("/_emulator/reports").json() == listed


# -- clients -------------------------------------------------------------------------------------


def test_the_library_client_downloads_and_parses_a_report_over_a_real_socket(moengage_clock):
    with Emulator(EmulatorSettings(clock=moengage_clock)) as emu, serve(emu) as url:
        send_activity(emu, "2025-03-08")
        ReportBook(emu.store, WORKSPACE).define(
            ReportDefinition("Daily Push", date(2025, 3, 9), "daily")
        )
        settings = MoEngageSettings(
            workspace_id=WORKSPACE,
            data_api_key=DATA_KEY,
            campaign_api_key=CAMPAIGN_KEY,
            base_url=url,
        )
        with MoEngageClient(settings) as client:
            content = client.download_report("Daily_Push_20250309.zip")
        counters = emu.inspect.counters()["campaign_report"]
    assert counters["requests"] == 1 and counters["2xx"] == 1
    contents, batches = read_report(content, "Daily_Push_20250309.zip", date(2025, 3, 9))
    rows = [row for batch in batches for row in batch.to_pylist()]
    assert {row["member"] for row in rows} == {
        "Daily_Push_20250309_push.csv",
        "Daily_Push_20250309_email.csv",
        "Daily_Push_20250309_sms.csv",
    }
    assert "all_platform_sent" in {column.name for column in contents.columns}
