"""The warehouse tables the pushes read, declared so lineage starts at the warehouse."""

import dagster as dg

from dagster_project.partitions import DAILY

users = dg.AssetSpec(
    key=["warehouse", "users"],
    group_name="warehouse",
    kinds={"table"},
    partitions_def=DAILY,
    description="Customers, one row per customer; daily partitions follow `updated_at`.",
)
events = dg.AssetSpec(
    key=["warehouse", "events"],
    group_name="warehouse",
    kinds={"table"},
    partitions_def=DAILY,
    description="Behavioural events; daily partitions follow `loaded_at` (arrival time).",
)
catalog_items = dg.AssetSpec(
    key=["warehouse", "catalog_items"],
    group_name="warehouse",
    kinds={"table"},
    description="The product catalog, one row per SKU.",
)
