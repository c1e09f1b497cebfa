"""The read-back check of a users push: a sample fetched with Get User matches what was sent.

``reconciliation_check(component, spec)`` builds a non-blocking asset check on the push's
asset. It runs after the asset, reads ``component.verify_sample`` random users of the latest
materialized partition back from MoEngage (``moengage_pipelines.push.reconcile``), records
every mismatch in ``moengage_reconciliation`` of the results warehouse and warns when there is
any. The push component adds it when its YAML sets ``verify_sample`` on a users push.
"""


from typing import Any, Protocol

import dagster as dg

from dagster_project.partitions import DAILY
from dagster_project.push_execution import PushDefinition, component_source
from dagster_project.resources import MoEngageResource, WarehouseResource
from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.reconcile import RECONCILIATION_TABLE, reconcile_users
from moengage_pipelines.sources import TimeWindow
from moengage_pipelines.warehouse import Warehouse

__all__ = ["RECONCILIATION_CHECK", "VerifiedPush", "reconciliation_check"]

RECONCILIATION_CHECK = "read_back_matches"
# Mismatches shown in the check's metadata; the table holds them all.
_EXAMPLES = 10


class VerifiedPush(PushDefinition, Protocol):
    """A push definition that asks for read-back verification."""

    verify_sample: int


def _latest_partition(
    context: dg.AssetCheckExecutionContext, key: dg.AssetKey, partitioned: bool
) -> tuple[bool, str | None, TimeWindow | None]:
    """Whether the asset was materialized, and the partition and window of its latest run."""
    event = context.instance.get_latest_materialization_event(key)
    materialization = event.asset_materialization if event is not None else None
    if materialization is None:
        return False, None, None
    if not partitioned or materialization.partition is None:
        return True, None, None
    window = DAILY.time_window_for_partition_key(materialization.partition)
    return True, materialization.partition, TimeWindow(window.start, window.end)


def _metadata(report: Any, partition: str | None) -> dict[str, Any]:
    examples = [
        {
            "customer_id": m.customer_id,
            "attribute": m.attribute,
            "reason": m.reason,
        }
        for m in report.mismatches[:_EXAMPLES]
    ]
    return {
        "partition": partition or "",
        "users_sampled": report.users_sampled,
        "users_found": report.users_found,
        "attributes_compared": report.attributes_compared,
        "mismatches": len(report.mismatches),
        "mismatches_by_attribute": dg.MetadataValue.json(report.by_attribute()),
        "examples": dg.MetadataValue.json(examples),
        "get_user_requests": report.requests,
        "reconciliation_table": RECONCILIATION_TABLE,
        "reconciliation_run_id": report.run_id,
    }


def reconciliation_check(component: VerifiedPush, spec: dg.AssetSpec) -> dg.AssetChecksDefinition:
    """The read-back check of one users push asset (severity WARN, never blocking).

    Raises:
        ValueError: The push is not a users push (Get User reads users only), at load time.
    """
    entity = load_mapping(component.mapping).entity
    if entity != "users":
        raise ValueError(f"verify_sample reads users back with Get User; this push maps {entity}")
    partitioned = component.source.time_column is not None
    sync_name = spec.key.to_user_string()

    @dg.asset_check(
        asset=spec.key,
        name=RECONCILIATION_CHECK,
        blocking=False,
        description=(
            f"{component.verify_sample} random users of the latest push, read back with Get "
            f"User, hold every attribute as sent; mismatches go to {RECONCILIATION_TABLE}."
        ),
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        moengage: MoEngageResource,
        warehouse: WarehouseResource,
    ) -> dg.AssetCheckResult:
        pushed, partition, window = _latest_partition(context, spec.key, partitioned)
        if not pushed:
            return dg.AssetCheckResult(passed=True, metadata={"note": "nothing pushed yet"})
        source = component_source(component, warehouse.url)
        with moengage.get_client() as client, Warehouse.open(warehouse.output_url()) as results:
            report = reconcile_users(
                source,
                component.mapping,
                client,
                sample_size=component.verify_sample,
                sync_name=sync_name,
                results=results,
                partition=partition,
                window=window,
                run_id=context.run.run_id,
            )
        context.log.info(f"{sync_name} {partition or ''}: {report.summary()}")
        return dg.AssetCheckResult(
            passed=report.ok,
            severity=dg.AssetCheckSeverity.WARN,
            description=report.summary(),
            metadata=_metadata(report, partition),
        )

    return _check
