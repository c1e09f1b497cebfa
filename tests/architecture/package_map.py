"""The package map in docs/architecture.md, written from the tree and the modules' docstrings.

``python -m tests.architecture.package_map`` rewrites the map in place; a test checks that the
file holds what this writes.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

from tests.architecture.import_graph import ROOT, module_files

DOC = ROOT / "docs" / "architecture.md"
BEGIN = "<!-- package map: written by `python -m tests.architecture.package_map` -->"
END = "<!-- end of package map -->"

# Packages in the order data flows through them; anything not listed follows, sorted.
ORDER = [
    "moengage_pipelines",
    "moengage_pipelines.sources",
    "moengage_pipelines.push",
    "moengage_pipelines.push.mapping",
    "moengage_pipelines.push.prepare",
    "moengage_pipelines.push.dead_letters",
    "moengage_pipelines.push.pack",
    "moengage_pipelines.push.ledger",
    "moengage_pipelines.push.send",
    "moengage_pipelines.push.catalog",
    "moengage_pipelines.api",
    "moengage_pipelines.api.ratebudget",
    "moengage_pipelines.pull",
    "moengage_pipelines.pull.campaigns",
    "moengage_pipelines.pull.stats",
    "moengage_pipelines.pull.report_files",
    "moengage_pipelines.warehouse",
    "moengage_pipelines.emulator",
    "moengage_pipelines.emulator.endpoints",
    "moengage_pipelines.cli",
    "dagster_project",
]


def _summary(path: Path) -> str:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    summary = " ".join(docstring.split("\n\n")[0].split())
    # Sphinx roles and reStructuredText literals, as Markdown.
    summary = re.sub(r":(?:class|func|meth|mod|attr):`~?([^`]+)`", r"`\1`", summary)
    return summary.replace("``", "`") or "–"


def package_map() -> str:
    """The map: one table per package, one row per module, its docstring's first paragraph."""
    files = module_files()
    packages: dict[str, list[str]] = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        packages.setdefault(package, []).append(module)
    order = [p for p in ORDER if p in packages] + sorted(set(packages) - set(ORDER))
    parts = [BEGIN, ""]
    for package in order:
        folder = package.replace(".", "/") + "/"
        parts += [f"### `{folder}`", "", "| Module | Job |", "|---|---|"]
        for module in sorted(packages[package], key=lambda m: (m != package, m)):
            path = files[module]
            name = "`__init__.py`" if module == package else f"`{path.name}`"
            summary = _summary(path).replace("|", "\\|")
            parts.append(f"| {name} | {summary} |")
        parts.append("")
    parts.append(END)
    return "\n".join(parts)


def rewritten(text: str) -> str:
    """``text`` with the part between the markers replaced by the current map."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + package_map() + text[end:]


if __name__ == "__main__":
    DOC.write_text(rewritten(DOC.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"wrote the package map of {DOC.relative_to(ROOT)}\n")
