"""What the README and docs show stays true."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml

from sample_data.build import build

REPO = Path(__file__).parents[2]


def _component_mappings() -> dict[str, dict]:
    documents = yaml.safe_load_all((REPO / "dagster_project/defs/moengage/defs.yaml").read_text())
    return {doc["attributes"]["asset"]["key"]: doc["attributes"]["mapping"] for doc in documents}


def test_example_mappings_are_the_ones_the_dagster_project_uses() -> None:
    mappings = _component_mappings()
    for key, mapping in mappings.items():
        example = REPO / "docs/examples" / f"{key.split('/')[1]}.yaml"
        assert yaml.safe_load(example.read_text()) == mapping, example


def test_readme_dry_run_example_runs_and_reports_the_rejects(tmp_path: Path) -> None:
    import datetime as dt

    import duckdb

    from sample_data.generate import DEMO_DAY

    readme = (REPO / "README.md").read_text()
    command = re.search(r"moengage-pipelines push events .*?--dry-run", readme, re.S).group(0)
    arguments = shlex.split(command.replace("\\\n", " "))[1:]
    database = build(tmp_path / "warehouse.duckdb")
    arguments[arguments.index("--source") + 1] = f"duckdb:{database}"
    day = arguments[arguments.index("--day") + 1]
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        # A shell expression for "yesterday": the sample data's demo day is yesterday.
        day = DEMO_DAY.isoformat()
        arguments[arguments.index("--day") + 1] = day
    with duckdb.connect(str(database), read_only=True) as connection:
        connection.execute("SET TimeZone = 'UTC'")
        [(rows,)] = connection.execute(
            "SELECT count(*) FROM events WHERE CAST(CAST(loaded_at AS DATE) AS VARCHAR) = ?",
            [day],
        ).fetchall()
    result = subprocess.run(
        [sys.executable, "-m", "moengage_pipelines.cli", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert rows > 0
    assert re.search(rf"rows read:\s+{rows:,}\b", result.stdout), result.stdout
    if day == DEMO_DAY.isoformat():
        # The demo day carries the planted bad rows the README talks about.
        assert re.search(r"rows rejected:\s+2", result.stdout)
        assert "future_event_time: 1" in result.stdout


def _section(path: str, heading: str) -> str:
    text = (REPO / path).read_text()
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end > 0 else None]


def test_the_component_field_table_lists_every_field_with_its_default() -> None:
    from dagster_project.components import MoEngagePushComponent

    table = _section("docs/operations.md", "## The push component")
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `([a-z_.]+)`[^|]*\| ([^|]+) \|", table, re.M)
    }
    for name, field in MoEngagePushComponent.model_fields.items():
        documented = [key for key in rows if key == name or key.startswith(f"{name}.")]
        assert documented, f"{name} is missing from the field table"
        if isinstance(field.default, str | int | float) and not isinstance(field.default, bool):
            default = f"{field.default:g}" if isinstance(field.default, float) else field.default
            assert str(default) in rows[name], (name, rows[name])
    assert "source.kind" in rows


def test_the_documented_retry_waits_are_the_ones_dagster_computes() -> None:
    from dagster._core.definitions.policy import calculate_delay

    from dagster_project.components import MoEngagePushComponent

    attributes = next(
        yaml.safe_load_all((REPO / "dagster_project/defs/moengage/defs.yaml").read_text())
    )["attributes"]
    component = MoEngagePushComponent.resolve_from_dict(attributes)
    table = _section("docs/operations.md", "## The push component")
    found = re.search(
        r"first retry comes after (\d+)–(\d+) s, the second after (\d+)–(\d+) s", table
    )
    bounds = [int(value) for value in found.groups()]
    documented = [(bounds[0], bounds[1]), (bounds[2], bounds[3])]
    [push] = component.build_defs(dg_context()).assets
    policy = push.op.retry_policy
    assert policy.max_retries == len(documented)
    assert policy.jitter == dg.Jitter.PLUS_MINUS  # adds between -delay and +delay
    for attempt, (low, high) in enumerate(documented, start=1):
        wait = calculate_delay(
            attempt_num=attempt, backoff=policy.backoff, jitter=None, base_delay=policy.delay
        )
        assert (wait - policy.delay, wait + policy.delay) == (low, high)


def test_the_reject_check_is_documented_as_a_warning_by_default() -> None:
    from dagster_project.components import MoEngagePushComponent

    assert MoEngagePushComponent.model_fields["reject_check_severity"].default == "WARN"
    checks = _section("docs/operations.md", "## Checks")
    row = next(line for line in checks.splitlines() if "`rejected_rows_within_threshold`" in line)
    assert "warn by default" in row and "`reject_check_severity`" in row


def dg_context() -> dg.ComponentLoadContext:
    return dg.ComponentTree.for_test().load_context


def test_the_customization_example_in_the_push_docs_works(tmp_path: Path, monkeypatch) -> None:
    import importlib

    section = _section("docs/push.md", "### Customizing the component")
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "tagged_push.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("tagged_push")
    attributes = next(
        yaml.safe_load_all((REPO / "dagster_project/defs/moengage/defs.yaml").read_text())
    )["attributes"]
    component = module.TaggedPushComponent.resolve_from_dict(attributes)
    [push] = component.build_defs(dg_context()).assets
    spec = next(iter(push.specs))
    assert spec.tags["moengage/entity"] == "users"
    assert {"moengage", "duckdb"} <= set(spec.kinds)
    assert isinstance(push, dg.AssetsDefinition)
