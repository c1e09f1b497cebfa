"""What ``dg scaffold defs ...MoEngagePushComponent <folder>`` writes: a commented, working push.

The example pushes events from a warehouse table named after the folder, so a fresh scaffold
loads (``dg check defs``) as it is and shows every field worth knowing; edit the table, the
time column and the mapping to fit the source.
"""

from __future__ import annotations

from string import Template

import dagster as dg
from dagster.components.component_scaffolding import scaffold_component

__all__ = ["MoEngagePushScaffolder", "example_yaml"]

_EXAMPLE = Template("""\
# One MoEngage push. Add more with `---` documents; see docs/push.md and docs/mapping.md.
type: $type_name
attributes:
  asset:
    # The dataset in MoEngage this push fills, and the warehouse table it reads (lineage).
    key: moengage/$name
    group_name: moengage
    deps: [warehouse/$name]
    owners: [team:growth]
  source:
    # Or sql: "SELECT ...", or parquet: a file, folder or glob.
    table: $name
    time_column: loaded_at         # daily partitions follow this column (UTC); omit: unpartitioned
    order_by: [loaded_at, event_id]  # a unique key: re-runs pack the same bodies
  mapping:
    entity: events                 # users | events | catalog (editors complete the rest)
    customer_id: customer_id
    event_name_column: event_name  # or event_name: Purchase (a constant)
    event_time_column: event_time
    platform_column: platform
    attributes:                    # MoEngage name: column, or {column: c, type: number}
      category: category
      revenue: {column: revenue, type: number}
  # max_reject_rate: 0.01          # share of rejected rows before the reject check fails
  # reject_check_severity: WARN    # ERROR blocks downstream assets when it fails
  # resend: ambiguous              # ambiguous | never | always
  # max_retries: 2                 # retries of a step that failed for a reason that may pass
  # retry_delay_seconds: 60        # first wait; doubles each retry, with jitter
""")


def example_yaml(type_name: str, name: str) -> str:
    """The scaffolded ``defs.yaml`` for a push in folder ``name``."""
    return _EXAMPLE.substitute(type_name=type_name, name=name)


class MoEngagePushScaffolder(dg.Scaffolder):
    """Writes a commented example push instead of an empty ``attributes: {}``."""

    def scaffold(self, request: dg.ScaffoldRequest) -> None:
        """Write ``defs.yaml`` (or append a document to it) with the example push."""
        if request.scaffold_format != "yaml":
            scaffold_component(request, {})
            return
        name = request.target_path.stem if request.append else request.target_path.name
        text = example_yaml(request.type_name, name.replace("-", "_"))
        if request.append:
            with request.target_path.open("a", encoding="utf-8") as file:
                file.write("---\n" + text)
            return
        request.target_path.mkdir(parents=True, exist_ok=True)
        (request.target_path / "defs.yaml").write_text(text, encoding="utf-8")
