"""The CLI's delivery state and exit codes: on by default, keyed by destination, honest codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from moengage_pipelines.cli import main
from moengage_pipelines.emulator import Emulator, EmulatorSettings, serve
from moengage_pipelines.emulator.faults import FaultRule


def _push(files, *extra: str) -> list[str]:
    source, mapping = files
    return ["push", "events", "--source", str(source), "--mapping", str(mapping), *extra]


def test_state_is_on_by_default_in_the_users_state_directory(
    files, capsys, server_env, _isolated_delivery_state: Path
):
    assert main(_push(files)) == 0
    first = capsys.readouterr()
    assert "events sent: 3" in first.out and "warning" not in first.err
    assert (_isolated_delivery_state / "moengage-pipelines" / "state.duckdb").is_file()
    assert main(_push(files)) == 0
    assert "rows skipped:  3 in 1 bodies already accepted" in capsys.readouterr().out
    assert len(server_env.inspect.events()) == 3


def test_no_state_warns_and_resends(files, capsys, server_env):
    for _ in range(2):
        assert main(_push(files, "--no-state")) == 0
        captured = capsys.readouterr()
        assert "events sent: 3" in captured.out
        assert captured.err.startswith("warning: --no-state")
        assert "state:         none (--no-state)" in captured.out
    assert len(server_env.inspect.events()) == 6


def test_the_state_is_keyed_by_destination(files, capsys, server_env, monkeypatch, tmp_path):
    state = f"duckdb:///{tmp_path / 'shared.duckdb'}"
    assert main(_push(files, "--state", state)) == 0
    assert "events sent: 3" in capsys.readouterr().out
    # Another workspace (here: another MoEngage behind another URL) with the same state file
    # receives everything: what one destination accepted says nothing about another.
    with Emulator(EmulatorSettings()) as other, serve(other) as url:
        monkeypatch.setenv("MOENGAGE_BASE_URL", url)
        assert main(_push(files, "--state", state)) == 0
        assert "events sent: 3" in capsys.readouterr().out
        assert len(other.inspect.events()) == 3
    assert len(server_env.inspect.events()) == 3


def test_held_and_failed_rows_make_the_exit_code_1(files, capsys, server_env):
    never = _push(files, "--resend", "never")
    server_env.faults.add(FaultRule(endpoint="transition", kind="reset", count=1))
    assert main(never) == 1
    out = capsys.readouterr().out
    assert "rows failed:   3 in 1 bodies" in out
    assert "ambiguous: 3 rows in 1 bodies: the answer was lost after sending" in out
    assert main(never) == 1
    assert "rows held:     3 in 1 bodies" in capsys.readouterr().out
    assert len(server_env.inspect.events()) == 3  # at most once: held, not resent
    assert main(_push(files)) == 0  # at least once: sent again
    assert len(server_env.inspect.events()) == 6


@pytest.mark.parametrize(
    ("problem", "extra", "message"),
    [
        ("no concurrency", ["--concurrency", "0"], "--concurrency: must be at least 1, got 0"),
        ("negative concurrency", ["--concurrency", "-3"], "must be at least 1, got -3"),
        ("no batch rows", ["--batch-rows", "0"], "--batch-rows: must be at least 1, got 0"),
        ("a tiny body limit", ["--max-body-bytes", "10"], "must be at least 100, got 10"),
        ("a body limit over MoEngage's", ["--max-body-bytes", "200000"], "at most 100,000"),
        ("a word for a number", ["--concurrency", "four"], "expected a whole number"),
    ],
)
def test_bad_numbers_are_one_error_line(files, capsys, problem, extra, message):
    assert main(_push(files, "--dry-run", *extra)) == 2, problem
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err, problem


@pytest.mark.parametrize(
    ("kind", "content", "message"),
    [
        ("empty", b"", "Parquet file size is 0 bytes"),
        ("truncated", None, "magic bytes not found"),
        ("not Parquet", b"uid,at\nuser-1,2025-05-01\n", "magic bytes not found"),
    ],
)
def test_unreadable_parquet_is_one_error_line(files, capsys, tmp_path, kind, content, message):
    source, mapping = files
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(source.read_bytes()[: len(source.read_bytes()) // 2] if content is None
                    else content)
    code = main(["push", "events", "--source", str(bad), "--mapping", str(mapping), "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2, kind
    assert err.count("\n") == 1 and err.startswith("error: cannot read") and message in err, kind
    assert str(bad) in err and "Traceback" not in err


def test_a_state_file_in_use_is_one_error_line(files, capsys, tmp_path, server_env):
    state = tmp_path / "busy.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "c.execute('create table t(a int)'); print('ready', flush=True); time.sleep(60)",
         str(state)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        code = main(_push(files, "--state", f"duckdb:///{state}"))
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "another push is using this state file" in err
    assert not server_env.inspect.events()  # nothing sent without its state


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("bogus", "MOENGAGE_RATE_BUDGET_STORE='bogus' does not work"),
        ("redis://:Hunter2Secret@127.0.0.1:1/0", "MOENGAGE_RATE_BUDGET_STORE="),
    ],
)
def test_a_rate_budget_store_that_does_not_work_is_one_error_line(
    files, capsys, server_env, monkeypatch, store, message
):
    monkeypatch.setenv("MOENGAGE_RATE_BUDGET_STORE", store)
    assert main(_push(files)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ") and message in err
    assert "Hunter2Secret" not in err and "Traceback" not in err
    assert not server_env.inspect.events()
