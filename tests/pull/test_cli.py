from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from moengage_pipelines.cli import main
from moengage_pipelines.pull.campaigns.table import CAMPAIGNS_TABLE
from moengage_pipelines.pull.stats.tables import STATS_DAILY_TABLE
from moengage_pipelines.warehouse import Warehouse
from tests.pull.activity import DAYS
from tests.pull.emulators import define_report


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
    summary = json.loads(capsys.readouterr().out)
    assert summary["status"] == "ok" and summary["table"] == "moengage_report_weekly_email"
    assert summary["file"] == "Weekly_Email_20250302.zip"
    # A recent day (by the real clock the command uses) whose file was never generated.
    recent = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    missing = ["pull", "report", "--warehouse", url, "--day", recent]
    assert main([*missing, "--report-name", "Monthly Email"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["status"] == "missing"
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
