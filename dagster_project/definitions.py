"""The code location: everything under ``defs/`` is loaded automatically."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Load every definition in the ``defs`` folder."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
