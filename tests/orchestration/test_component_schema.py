"""The component's ``mapping`` is a typed schema, in its JSON schema and checked by ``dg``.

``dg`` runs as a user runs it, in a throwaway project that uses the component (so the repo's
own ``defs`` folder is never touched): the scaffold writes a working example, and a bad
mapping fails ``dg check defs`` naming the file and the line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dagster_project.components import MoEngagePushComponent
from dagster_project.components.mapping_schema import (
    CatalogMappingSchema,
    EventsMappingSchema,
    UsersMappingSchema,
)
from moengage_pipelines.push.mapping import CatalogMapping, EventMapping, UserMapping

DG = str(Path(sys.executable).parent / "dg")
COMPONENT = "dagster_project.components.MoEngagePushComponent"


def test_the_json_schema_holds_one_mapping_schema_per_entity() -> None:
    schema = MoEngagePushComponent.model().model_json_schema()
    # Dagster also accepts a whole-field template string: the union is the other branch.
    [mapping] = [
        branch for branch in schema["properties"]["mapping"]["anyOf"] if "discriminator" in branch
    ]
    assert mapping["discriminator"]["propertyName"] == "entity"
    targets = {name: ref.rsplit("/", 1)[1] for name, ref in
               mapping["discriminator"]["mapping"].items()}
    assert targets == {
        "users": "UsersMappingSchema",
        "events": "EventsMappingSchema",
        "catalog": "CatalogMappingSchema",
    }
    events = schema["$defs"]["EventsMappingSchema"]
    assert events["additionalProperties"] is False
    assert events["properties"]["event_time_unit"]["enum"] == ["s", "ms"]
    assert "description" in events["properties"]["event_name_column"]


@pytest.mark.parametrize(
    ("schema", "library"),
    [
        (UsersMappingSchema, UserMapping),
        (EventsMappingSchema, EventMapping),
        (CatalogMappingSchema, CatalogMapping),
    ],
)
def test_each_schema_has_exactly_the_fields_of_the_library_model(schema, library) -> None:
    assert set(schema.model_fields) == set(library.model_fields)


def test_yaml_gets_the_library_model(tmp_path: Path) -> None:
    component = MoEngagePushComponent.resolve_from_yaml(
        """
asset: {key: moengage/events}
source: {table: events}
mapping:
  entity: events
  customer_id: uid
  event_name: Purchase
  attributes: [sku, price]
"""
    )
    assert isinstance(component.mapping, EventMapping)
    assert component.mapping.columns() == ["uid", "sku", "price"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A throwaway dg project whose defs use the component and bind the project's resources."""
    root = tmp_path_factory.mktemp("dg_project")
    package = root / "scratch_project"
    (package / "defs").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "scratch-project"\nversion = "0.0.0"\n\n'
        '[tool.dg]\ndirectory_type = "project"\n\n'
        '[tool.dg.project]\nroot_module = "scratch_project"\n'
        'registry_modules = ["dagster_project.components.*"]\n\n'
        '[tool.dg.cli]\nsuppress_warnings = ["project_and_activated_venv_mismatch"]\n'
    )
    (package / "__init__.py").write_text("")
    (package / "definitions.py").write_text(
        "from pathlib import Path\n\nimport dagster as dg\n\n\n@dg.definitions\n"
        "def defs():\n"
        "    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)\n"
    )
    (package / "defs" / "__init__.py").write_text("")
    (package / "defs" / "resources.py").write_text(
        "from dagster_project.defs.resources import resources  # noqa: F401\n"
    )
    (root / "home").mkdir()
    (root / "home" / "dagster.yaml").write_text("")
    return root


def _dg(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "PYTHONPATH": str(project),
        "DAGSTER_HOME": str(project / "home"),
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [DG, *arguments], cwd=project, env=environment, capture_output=True, text=True,
        check=False, timeout=300,
    )


def test_the_scaffold_writes_a_commented_example_that_loads(project: Path) -> None:
    scaffolded = _dg(project, "scaffold", "defs", COMPONENT, "orders")
    assert scaffolded.returncode == 0, scaffolded.stderr
    text = (project / "scratch_project/defs/orders/defs.yaml").read_text()
    assert "attributes: {}" not in text
    assert "key: moengage/orders" in text and "entity: events" in text
    assert "# reject_check_severity: WARN" in text
    checked = _dg(project, "check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _line_number(text: str, prefix: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(prefix))


@pytest.mark.parametrize(
    ("prefix", "replacement", "message", "reported_at"),
    [
        # A rule only the library knows: reported at the field holding the bad name.
        ("      category:", "      moe_category:", "system prefix 'moe_'", ["    attributes:"]),
        # A misspelt field: refused by the schema, at the field (loading) or at the mapping
        # holding it (the YAML check, which runs first when dg's schema cache is warm).
        ("    event_name_column:", "    event_nme_column:", "event_nme_column",
         ["    event_nme_column:", "  mapping:"]),
    ],
)
def test_a_bad_mapping_fails_dg_check_defs_with_the_file_and_line(
    project: Path, prefix: str, replacement: str, message: str, reported_at: list[str]
) -> None:
    from dagster_project.components.scaffolder import example_yaml

    text = example_yaml(COMPONENT, "bad").replace(prefix, replacement, 1)
    expected = [
        f"scratch_project/defs/bad/defs.yaml:{_line_number(text, line)}" for line in reported_at
    ]
    folder = project / "scratch_project/defs/bad"
    folder.mkdir(exist_ok=True)
    (folder / "defs.yaml").write_text(text)
    try:
        checked = _dg(project, "check", "defs")
    finally:
        (folder / "defs.yaml").unlink()
        folder.rmdir()
    output = checked.stdout + checked.stderr
    assert checked.returncode != 0
    assert message in output
    # The location ends the path: "...defs.yaml:15 - ..." or "...defs.yaml:15`".
    assert any(
        f"{location}{end}" in output for location in expected for end in (" ", "`")
    ), output[-3000:]
