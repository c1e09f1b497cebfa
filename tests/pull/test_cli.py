from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moengage_pipelines.cli import main
from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_TABLE
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE
from moengage_pipelines.warehouse import Warehouse
from tests.pull.activity import DAYS
from tests.pull.emulators import define_report

DOCS = Path(__file__).resolve().parents[2] / "docs" / "pull.md"


def _documented(message: str) -> bool:
    """Whether docs/pull.md shows ``message``, dates, days and file names aside."""

    def general(text: str) -> str:
        text = " ".join(text.replace("\\|", "|").split())  # as wrapped in the docs
        text = re.sub(r"[A-Za-z_]+_\d{8}\.zip", "FILE", text)
        return re.sub(r"\d{4}-\d{2}-\d{2}(, \d{4}-\d{2}-\d{2})*", "DAY", text)

    return general(message) in general(DOCS.read_text())


@pytest.fixture
def cli_env(moengage_emulator_server, monkeypatch, tmp_path):
    settings = moengage_emulator_server.emulator.settings
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", settings.workspace_id)
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", settings.data_api_key)
    monkeypatch.setenv("MOENGAGE_CAMPAIGN_API_KEY", settings.campaign_api_key)
    monkeypatch.setenv("MOENGAGE_BASE_URL", moengage_emulator_server.url)
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_PATH", str(tmp_path / "budget.sqlite"))
    monkeypatch.delenv("MOENGAGE_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("MOENGAGE_RESULTS_URL", f"duckdb:///{tmp_path}/cli.duckdb")
    return f"duckdb:///{tmp_path}/cli.duckdb"


def test_pull_campaigns_then_stats_from_the_command_line(cli_env, seeded, capsys):
    assert main(["pull", "campaigns"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["campaigns"] == 25 and summary["stop_reason"] == "short_page"

    args = ["pull", "stats", "--start", DAYS[0].isoformat(), "--end", DAYS[1].isoformat()]
    assert main([*args, "--warehouse", cli_env]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["days"] == [DAYS[0].isoformat(), DAYS[1].isoformat()]
    assert summary["requests"] == 6  # 25 campaigns: 3 requests a day
    assert summary["sent"] > 0
    with Warehouse.open(cli_env) as warehouse:
        assert warehouse.count(CAMPAIGNS_TABLE) == 25
        days = warehouse.query(f"SELECT DISTINCT date FROM {STATS_DAILY_TABLE} ORDER BY 1")
        assert days.column(0).to_pylist() == list(DAYS[:2])


def test_a_bad_stats_command_explains_itself(cli_env, capsys):
    assert main(["pull", "stats", "--start", "2025-03-01"]) == 2
    assert "--start and --end go together" in capsys.readouterr().err
    code = main(["pull", "stats", "--day", "2025-03-04", "--attribution-type", "CLICKS"])
    assert code == 2
    assert "unknown value(s) ['CLICKS']" in capsys.readouterr().err


def test_without_a_warehouse_the_command_names_the_variable(cli_env, monkeypatch, capsys):
    monkeypatch.delenv("MOENGAGE_RESULTS_URL")
    assert main(["pull", "campaigns"]) == 2
    assert "MOENGAGE_RESULTS_URL" in capsys.readouterr().err


def test_pull_report_loads_a_file_and_fails_on_a_missing_one(
    report_server, monkeypatch, tmp_path, capsys
):
    settings = report_server.emulator.settings
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", settings.workspace_id)
    monkeypatch.setenv("MOENGAGE_CAMPAIGN_API_KEY", settings.campaign_api_key)
    monkeypatch.setenv("MOENGAGE_BASE_URL", report_server.url)
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", "memory")
    define_report(
        report_server,
        name="Weekly Email",
        generated_on="2025-03-02",
        schedule="one_time",
        channels=["EMAIL"],
    )
    url = f"duckdb:///{tmp_path}/reports.duckdb"
    args = ["pull", "report", "--warehouse", url, "--day", "2025-03-02"]
    assert main([*args, "--report-name", "Weekly Email"]) == 0
    [summary] = json.loads(capsys.readouterr().out)["reports"]
    assert summary["status"] == "ok" and summary["table"] == "moengage_report_weekly_email"
    assert summary["file"] == "Weekly_Email_20250302.zip"
    # A recent day (by the real clock the command uses) whose file was never generated.
    recent = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    missing = ["pull", "report", "--warehouse", url, "--day", recent]
    assert main([*missing, "--report-name", "Monthly Email"]) == 1
    captured = capsys.readouterr()
    assert [r["status"] for r in json.loads(captured.out)["reports"]] == ["missing"]
    assert "is not available" in captured.err and "'Monthly Email'" in captured.err


def test_pull_errors_never_show_a_warehouse_password(cli_env, capsys):
    secret = "Hunter2Secret"
    for url in (
        f"postgresql://etl:{secret}@127.0.0.1:1/test?connect_timeout=2",  # unreachable
        f"mysql://etl:{secret}@db/x",  # unsupported
    ):
        code = main(["pull", "campaigns", "--warehouse", url])
        captured = capsys.readouterr()
        assert code == 2
        assert captured.err.startswith("error: ") and "etl:***@" in captured.err
        assert secret not in captured.err + captured.out


def _fault(server, **rule) -> None:
    from moengage_pipelines.emulator.faults import FaultRule

    server.emulator.faults.add(FaultRule(endpoint="campaign_stats", **rule))


def test_a_failed_stats_pull_prints_its_summary_and_names_the_day(
    cli_env, moengage_emulator_server, seeded, capsys
):
    assert main(["pull", "campaigns"]) == 0
    capsys.readouterr()
    moengage_emulator_server.emulator.accounts.set("suspended")  # every request: 403
    days = ["--start", DAYS[0].isoformat(), "--end", DAYS[1].isoformat()]
    assert main(["pull", "stats", *days]) == 2
    captured = capsys.readouterr()
    summary = json.loads(captured.out)  # one document, also when the pull fails
    assert summary["committed_days"] == [] and summary["failed_day"] == DAYS[0].isoformat()
    assert summary["error"] in captured.err
    assert summary["requests"] == 1 and summary["retries"] == 0  # a 403 is not retried
    assert captured.err.startswith(f"error: campaign stats for {DAYS[0]} failed: MoEngage ")
    assert "the Stats API is not enabled for this workspace" in captured.err
    # Both parts of the message are the ones the docs' error table shows.
    cause, context = captured.err.split("to campaign-stats: ")[1].split("; nothing was written. ")
    assert _documented(cause + "; nothing was written.")
    assert _documented(context.split(" Committed before")[0])
    assert _documented("Re-run from " + context.split("Re-run from ")[1].strip())
    assert f"Committed before the failure: none. Not written: {DAYS[0]}, {DAYS[1]}." in (
        captured.err
    )
    with Warehouse.open(cli_env) as warehouse:
        assert not warehouse.table_exists(STATS_DAILY_TABLE)


def test_retries_and_5xx_are_counted_from_the_client(
    cli_env, moengage_emulator_server, seeded, capsys
):
    assert main(["pull", "campaigns"]) == 0
    capsys.readouterr()
    before = moengage_emulator_server.emulator.inspect.counters().get("campaign_stats", {})
    for after in (0, 2, 4):  # each of the day's 3 requests meets one 503, then succeeds
        _fault(moengage_emulator_server, kind="error", status=503, after=after, count=1)
    assert main(["pull", "stats", "--day", DAYS[0].isoformat(), "--lookback", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    received = moengage_emulator_server.emulator.inspect.counters()["campaign_stats"]
    assert received["requests"] - before.get("requests", 0) == 6
    assert summary["requests"] == 6  # sent, retries included
    assert (summary["retries"], summary["http_5xx"], summary["http_429"]) == (3, 3, 0)
    assert summary["stats_requests"] == 3  # answered stats requests


def test_unknown_campaign_ids_are_reported_not_dropped(
    cli_env, moengage_emulator_server, seeded, capsys
):
    known = [c["campaign_id"] for c in moengage_emulator_server.emulator.inspect.campaigns()[:2]]
    unknown = [f"{n:024x}" for n in range(12)]
    ids = [arg for campaign in [*known, *unknown] for arg in ("--campaign-id", campaign)]
    assert main(["pull", "stats", "--day", DAYS[0].isoformat(), "--lookback", "1", *ids]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["unknown_campaign_ids"] == unknown
    assert summary["issues"] == 12
    assert "MoEngage returned no numbers for it" in summary["issue_examples"][0]
    assert "warning: no numbers for 12 campaign id(s)" in captured.err
    assert _documented("campaign <id>: " + summary["issue_examples"][0].split(": ", 1)[1])


def _report_env(server, monkeypatch, campaign_key=None) -> None:
    settings = server.emulator.settings
    monkeypatch.setenv("MOENGAGE_WORKSPACE_ID", settings.workspace_id)
    monkeypatch.setenv("MOENGAGE_CAMPAIGN_API_KEY", campaign_key or settings.campaign_api_key)
    monkeypatch.setenv("MOENGAGE_BASE_URL", server.url)
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", "memory")


def test_several_report_names_print_one_json_document(report_server, monkeypatch, tmp_path, capsys):
    _report_env(report_server, monkeypatch)
    for name in ("Daily Push", "Weekly Email"):
        define_report(report_server, name=name, generated_on="2025-03-02", schedule="one_time")
    url = f"duckdb:///{tmp_path}/reports.duckdb"
    args = ["pull", "report", "--warehouse", url, "--day", "2025-03-02"]
    code = main([*args, "--report-name", "Daily Push", "--report-name", "Weekly Email"])
    summary = json.loads(capsys.readouterr().out)  # one document a JSON parser reads
    assert code == 0 and summary["loaded"] == 2
    assert [r["report_name"] for r in summary["reports"]] == ["Daily Push", "Weekly Email"]
    assert summary["requests"] == 2 and summary["retries"] == 0


def test_a_bad_report_signature_explains_itself(report_server, monkeypatch, tmp_path, capsys):
    wrong = "not-the-campaign-key"
    _report_env(report_server, monkeypatch, campaign_key=wrong)
    define_report(report_server, name="Daily Push", generated_on="2025-03-02", schedule="daily")
    url = f"duckdb:///{tmp_path}/reports.duckdb"
    args = ["pull", "report", "--warehouse", url, "--day", "2025-03-05"]
    assert main([*args, "--report-name", "Daily Push"]) == 2
    captured = capsys.readouterr()
    [failed] = json.loads(captured.out)["reports"]
    assert failed["status"] == "failed"
    assert captured.err.startswith(
        "error: MoEngage refused the signature of report file Daily_Push_20250305.zip (401"
    )
    assert "MOENGAGE_WORKSPACE_ID" in captured.err and "MOENGAGE_CAMPAIGN_API_KEY" in captured.err
    assert wrong not in captured.err + captured.out
    assert _documented(captured.err.removeprefix("error: ").strip())
