"""What the README and docs show stays true."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

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
    readme = (REPO / "README.md").read_text()
    command = re.search(r"moengage-pipelines push events .*?--dry-run", readme, re.S).group(0)
    arguments = shlex.split(command.replace("\\\n", " "))[1:]
    database = build(tmp_path / "warehouse.duckdb")
    arguments[arguments.index("--source") + 1] = f"duckdb:{database}"
    result = subprocess.run(
        [sys.executable, "-m", "moengage_pipelines.cli", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"rows read:\s+605", result.stdout)
    assert re.search(r"rows rejected:\s+2", result.stdout)
    assert "future_event_time: 1" in result.stdout
