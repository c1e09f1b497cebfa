"""``moengage-pipelines reconcile users`` and ``push users --verify-sample N`` on a real socket."""

from __future__ import annotations

import yaml

from moengage_pipelines.cli import main
from moengage_pipelines.push.reconcile import RECONCILIATION_TABLE
from moengage_pipelines.warehouse import Warehouse
from tests.reconcile.conftest import USERS_MAPPING, user_rows


def _mapping(tmp_path, mapping=USERS_MAPPING):
    path = tmp_path / "users.yml"
    path.write_text(yaml.safe_dump(mapping))
    return str(path)


def test_reconcile_after_a_push_then_after_an_edit(cli_env, users_parquet, tmp_path, capsys):
    spec, mapping = users_parquet(user_rows(30)), _mapping(tmp_path)
    results = f"duckdb:///{tmp_path / 'results.duckdb'}"
    assert main(["push", "users", "--source", spec, "--mapping", mapping]) == 0
    command = ["reconcile", "users", "--source", spec, "--mapping", mapping, "--sample", "30"]
    capsys.readouterr()
    assert main([*command, "--results", results]) == 0
    out = capsys.readouterr().out
    assert "30 users sampled, 30 found, 270 attributes compared: 0 mismatches" in out

    cli_env.inspect.set_user_attributes("user-5", {"plan": "platinum", "vip": None})
    assert main([*command, "--results", results]) == 1
    out = capsys.readouterr().out
    assert "2 mismatches in 1 users" in out
    assert "mismatches by attribute: plan 1, vip 1" in out
    assert 'user-5: plan different, sent "pro", MoEngage has "platinum"' in out
    assert "user-5: vip missing, sent false, MoEngage has nothing" in out
    with Warehouse.open(results) as warehouse:
        rows = warehouse.query(f"SELECT attribute, reason FROM {RECONCILIATION_TABLE}")
    assert sorted(rows.to_pylist(), key=str) == [
        {"attribute": "plan", "reason": "different"},
        {"attribute": "vip", "reason": "missing"},
    ]


def test_push_with_verify_sample(cli_env, users_parquet, tmp_path, capsys):
    spec, mapping = users_parquet(user_rows(25)), _mapping(tmp_path)
    push = ["push", "users", "--source", spec, "--mapping", mapping, "--verify-sample", "10"]
    assert main(push) == 0
    out = capsys.readouterr().out
    assert "reconciled cli/users: 10 users sampled, 10 found" in out
    assert cli_env.inspect.counters()["customers_export"]["requests"] == 1
    # A dry run sends nothing, so there is nothing to read back.
    assert main([*push, "--dry-run"]) == 0
    assert "verify: skipped (a dry run sends nothing)" in capsys.readouterr().out
    assert cli_env.inspect.counters()["customers_export"]["requests"] == 1


def test_bad_input_is_one_error_line_without_the_key(
    cli_env, users_parquet, tmp_path, capsys, monkeypatch
):
    spec, mapping = users_parquet(user_rows(5)), _mapping(tmp_path)
    base = ["reconcile", "users", "--source", spec, "--mapping", mapping]
    assert main([*base, "--sample", "0"]) == 2
    assert "--sample: must be at least 1" in capsys.readouterr().err
    events = _mapping(tmp_path, {"entity": "events", "customer_id": "uid", "event_name": "X"})
    assert main(["reconcile", "users", "--source", spec, "--mapping", events]) == 2
    assert capsys.readouterr().err.startswith("error: reconciliation reads users back")
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", "not-the-key-8e1f")
    assert main(base) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
    assert "not-the-key-8e1f" not in err
