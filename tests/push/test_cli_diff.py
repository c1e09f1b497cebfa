"""The CLI's diff sync, plan and sync history: what a user sees and what the state records."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines import limits
from moengage_pipelines.cli import main
from moengage_pipelines.push.history import SyncRuns
from moengage_pipelines.warehouse import Warehouse

USERS_MAPPING = "entity: users\ncustomer_id: uid\nattributes: {plan: plan}\n"


def _users(tmp_path: Path, n: int, plans: dict[int, str] | None = None) -> list[str]:
    plans = plans or {}
    path = tmp_path / f"users-{n}-{len(plans)}.parquet"
    pq.write_table(pa.table({
        "uid": [f"user-{i:04d}" for i in range(n)],
        "plan": [plans.get(i, "free") for i in range(n)],
    }), path)
    mapping = tmp_path / "users.yml"
    mapping.write_text(USERS_MAPPING)
    return ["push", "users", "--source", str(path), "--mapping", str(mapping),
            "--max-body-bytes", "2000"]


def _number(label: str, text: str) -> int:
    return int(re.search(rf"^{label}: +([\d,]+)", text, re.M).group(1).replace(",", ""))


def test_dry_run_plans_only_the_changed_rows(tmp_path, capsys, server_env, state_url):
    assert main([*_users(tmp_path, 400), "--state", state_url]) == 0
    assert _number("users sent", capsys.readouterr().out) == 400

    assert main([*_users(tmp_path, 410, {3: "gold", 9: "pro"}), "--state", state_url,
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "diff:          10 new, 2 changed, 398 unchanged (not sent)" in out
    assert "plan:          12 rows to send (10 new, 2 changed, 0 retried; 398 unchanged)" in out
    assert limits.TRANSITION_USERS_PER_MINUTE > 12  # so it takes less than a minute
    assert "ETA:         under a minute; fits a day: yes" in out
    assert "requests:    1 (" in out and "1.0 per min at the budget" in out
    # A dry run records no run and sends nothing.
    with Warehouse.open(state_url) as warehouse:
        assert len(SyncRuns(warehouse).read("cli/users")) == 1
    assert len(server_env.inspect.users()) == 400


def test_full_resends_every_row(tmp_path, capsys, server_env, state_url):
    args = [*_users(tmp_path, 150), "--state", state_url]
    assert main(args) == 0 and main(args) == 0
    out = capsys.readouterr().out
    assert "users sent: 0" in out and "150 unchanged (not sent)" in out
    assert main([*args, "--full"]) == 0
    out = capsys.readouterr().out
    assert _number("users sent", out) == 150
    assert "150 unchanged resent (--full)" in out
    with Warehouse.open(state_url) as warehouse:
        runs = SyncRuns(warehouse).read("cli/users").to_pylist()
    assert [run["rows_sent"] for run in runs] == [150, 0, 150]
    assert {run["exit"] for run in runs} == {"ok"}


@pytest.mark.parametrize("flags,message", [
    (["--since-last-run", "--day", "2025-05-01", "--time-column", "at"], "drop --day"),
    (["--since-last-run"], "needs --time-column"),
    (["--lookback", "2h"], "--lookback goes with --since-last-run"),
])
def test_cursor_flags_are_checked(files, capsys, server_env, flags, message):
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping), *flags])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err


def test_a_bad_lookback_is_a_usage_error(files, capsys):
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--since-last-run", "--lookback", "soon"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "not a duration: 'soon'" in err


def test_since_last_run_from_the_cli(files, capsys, server_env, state_url):
    source, mapping = files
    args = ["push", "events", "--source", str(source), "--mapping", str(mapping),
            "--state", state_url, "--since-last-run", "--time-column", "at",
            "--lookback", "1d"]
    assert main(args) == 0
    assert "events sent: 3" in capsys.readouterr().out
    assert main(args) == 0  # the rows are older than the cursor minus the lookback
    assert "events sent: 0" in capsys.readouterr().out
    assert len(server_env.inspect.events()) == 3
    with Warehouse.open(state_url) as warehouse:
        runs = SyncRuns(warehouse).read("cli/events").to_pylist()
    assert runs[1]["window_start"] == runs[0]["window_end"] - dt.timedelta(days=1)
