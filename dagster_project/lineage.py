"""Render the asset lineage as a Mermaid flowchart (the picture in the README).

``python -m dagster_project.lineage`` prints it; a test keeps the README's copy in step with
the definitions.
"""

from __future__ import annotations

from collections import defaultdict

import dagster as dg


def _node_id(key: dg.AssetKey) -> str:
    return key.to_python_identifier()


def render_mermaid(definitions: dg.Definitions) -> str:
    """A left-to-right Mermaid flowchart: one subgraph per asset group, one edge per dependency."""
    graph = definitions.resolve_asset_graph()
    keys = sorted(graph.get_all_asset_keys(), key=lambda key: key.to_user_string())
    groups: dict[str, list[dg.AssetKey]] = defaultdict(list)
    for key in keys:
        groups[graph.get(key).group_name or "default"].append(key)
    lines = ["flowchart LR"]
    for group in sorted(groups):
        lines.append(f"  subgraph {group}")
        lines += [f"    {_node_id(key)}[{key.to_user_string()}]" for key in groups[group]]
        lines.append("  end")
    for key in keys:
        for parent in sorted(graph.get(key).parent_keys, key=lambda k: k.to_user_string()):
            lines.append(f"  {_node_id(parent)} --> {_node_id(key)}")
    return "\n".join(lines)


if __name__ == "__main__":
    from dagster_project.definitions import defs

    print(render_mermaid(defs()))
