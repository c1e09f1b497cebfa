"""The code location: everything under ``defs/`` is loaded automatically."""

from pathlib import Path

import dagster as dg

from dagster_project.attribution import with_owners_and_code_references
from dagster_project.policies import apply_policies


@dg.definitions
def defs() -> dg.Definitions:
    """Load every definition in the ``defs`` folder and apply the group-wide policies.

    Python-defined assets also get owners and code references (components take theirs from YAML).
    """
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    return with_owners_and_code_references(apply_policies(loaded))
