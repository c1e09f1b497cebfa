"""The tree keeps the shape the docs describe: no import cycles, small modules, one-way layers."""

from __future__ import annotations

import ast

import pytest

from tests.architecture.import_graph import ROOT, cycles, import_graph, module_files

MAX_MODULE_LINES = 400


def test_no_import_cycles_deferred_and_type_checking_imports_included() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle_through_a_package_init() -> None:
    graph = {
        "app.runner": {"app.parts.model"},
        # importing app.parts.model from outside runs app.parts (its __init__) first
        "app.parts": {"app.parts.component"},
        "app.parts.component": {"app.runner"},
    }
    graph["app.runner"].add("app.parts")
    assert cycles(graph) == [["app.parts", "app.parts.component", "app.runner"]]


@pytest.mark.parametrize("module", sorted(module_files()))
def test_modules_stay_small(module: str) -> None:
    path = module_files()[module]
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_the_library_never_imports_dagster() -> None:
    offenders = []
    for module, path in module_files(["moengage_pipelines"]).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            if any(name == "dagster" or name.startswith("dagster.") for name in names):
                offenders.append(module)
    assert offenders == []


def test_no_catch_all_modules() -> None:
    vague = {"utils", "helpers", "common", "misc"}
    assert [m for m in module_files() if m.rpartition(".")[2] in vague] == []


def test_the_architecture_doc_shows_the_current_tree() -> None:
    from tests.architecture.package_map import DOC, rewritten

    text = DOC.read_text(encoding="utf-8")
    assert text == rewritten(text), "run: python -m tests.architecture.package_map"
