"""Owners and code references for the assets defined in Python.

Component assets get both from their YAML (``owners``, and Dagster links each to its
``defs.yaml`` line). Assets and specs written in Python under ``defs/`` get them here: the
owners of their group unless they name their own, and a reference to the file and line that
defines them, so the UI's "View code" opens the definition.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping

import dagster as dg

__all__ = ["GROUP_OWNERS", "with_owners_and_code_references"]

GROUP_OWNERS: Mapping[str, tuple[str, ...]] = {
    "warehouse": ("team:data-platform",),
    "moengage": ("team:growth",),
    "moengage_reports": ("team:growth",),
}
"""Owners of each asset group, for the Python-defined assets that name none."""

_CODE_REFERENCES = "dagster/code_references"


def _python_definitions(package: str) -> dict[dg.AssetKey, dg.LocalFileCodeReference]:
    """Where each asset or spec defined at module level under ``package`` is written."""
    found: dict[dg.AssetKey, dg.LocalFileCodeReference] = {}
    for name, module in list(sys.modules.items()):
        if not name.startswith(f"{package}.") or module is None:
            continue
        try:
            path = inspect.getsourcefile(module)
            lines = inspect.getsource(module).splitlines()
        except (OSError, TypeError):
            continue
        for attribute, value in vars(module).items():
            if isinstance(value, dg.AssetSpec):
                line = next(
                    (number for number, text in enumerate(lines, 1)
                     if text.startswith(f"{attribute} = ")),
                    None,
                )
                if path and line:
                    found[value.key] = dg.LocalFileCodeReference(file_path=path, line_number=line)
            elif isinstance(value, dg.AssetsDefinition) and value.op.compute_fn:
                function = getattr(value.op.compute_fn, "decorated_fn", value.op.compute_fn)
                try:
                    source = inspect.getsourcefile(function)
                    line = inspect.getsourcelines(function)[1]
                except (OSError, TypeError):
                    continue
                for key in value.keys:
                    if source:
                        found[key] = dg.LocalFileCodeReference(file_path=source, line_number=line)
    return found


def with_owners_and_code_references(
    definitions: dg.Definitions, package: str = "dagster_project.defs"
) -> dg.Definitions:
    """Give Python-defined assets their group's owners and a reference to their code.

    Args:
        definitions: The loaded code location.
        package: The package the ``defs`` folder was loaded from (its modules are imported).

    Returns:
        The definitions, with specs that had no owners or code references given them.
    """
    references = _python_definitions(package)

    def attribute(spec: dg.AssetSpec) -> dg.AssetSpec:
        extra: dict = {}
        if not spec.owners and spec.group_name in GROUP_OWNERS:
            extra["owners"] = list(GROUP_OWNERS[spec.group_name])
        if _CODE_REFERENCES not in spec.metadata and spec.key in references:
            extra["metadata"] = {
                _CODE_REFERENCES: dg.CodeReferencesMetadataValue(
                    code_references=[references[spec.key]]
                )
            }
        return spec.merge_attributes(**extra) if extra else spec

    return definitions.map_asset_specs(func=attribute)
