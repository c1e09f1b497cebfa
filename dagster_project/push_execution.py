"""How a push asset runs: one library push per daily partition, summed into one report."""

from collections.abc import Iterator
from typing import Any, Literal, Protocol

import dagster as dg

from dagster_project.metadata import push_metadata
from dagster_project.partitions import DAILY
from dagster_project.resources import MoEngageResource, WarehouseResource
from dagster_project.source_model import SourceModel
from dagster_project.sync_metadata import observe_plan, sync_run_metadata
from moengage_pipelines.push.catalog.state import WarehouseCatalogState
from moengage_pipelines.push.dead_letters import DeadLetterWriter
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.sources import Source, TimeWindow, open_source
from moengage_pipelines.warehouse import Warehouse

__all__ = [
    "REJECTS_CHECK",
    "PushDefinition",
    "component_source",
    "run_component_push",
    "source_columns_report",
]

REJECTS_CHECK = "rejected_rows_within_threshold"


class PushDefinition(Protocol):
    """What a push asset is made of: a ``MoEngagePushComponent`` as read from YAML."""

    source: SourceModel
    mapping: dict[str, Any]
    resend: Literal["ambiguous", "never", "always"] | None
    max_reject_rate: float
    reject_check_severity: Literal["WARN", "ERROR"]

    def get_asset_spec(self) -> dg.AssetSpec:
        """The spec of the pushed asset."""
        ...


def component_source(component: PushDefinition, warehouse_url: str) -> Source:
    """The library source a component's ``source`` block names."""
    return open_source(
        component.source.parquet or warehouse_url,
        table=component.source.table,
        sql=component.source.sql,
        time_column=component.source.time_column,
        order_by=component.source.order_by,
    )


def source_columns_report(
    component: PushDefinition, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Check that the source has every column the component's mapping reads."""
    source = component_source(component, warehouse.url)
    available = set(source.schema().names)
    needed = load_mapping(component.mapping).columns()
    if component.source.time_column:
        needed = [*needed, component.source.time_column]
    missing = sorted(set(needed) - available)
    return dg.AssetCheckResult(
        passed=not missing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"missing columns: {', '.join(missing)}" if missing else None,
        metadata={"source": source.describe(), "missing_columns": missing, "needed": needed},
    )


def _windows(context: dg.AssetExecutionContext) -> list[tuple[str | None, TimeWindow | None]]:
    # An unpartitioned push (a catalog) inside a partitioned run still sees the run's partition
    # tag, so ask the asset, not the run.
    if context.assets_def.partitions_def is None:
        return [(None, None)]
    # A backfill run carries a partition range (``has_partition_key`` is False then), so
    # iterate the run's keys: each day keeps its own window and dead letters.
    windows = []
    for key in context.partition_keys:
        window = DAILY.time_window_for_partition_key(key)
        windows.append((key, TimeWindow(window.start, window.end)))
    return windows


def run_component_push(
    component: PushDefinition,
    context: dg.AssetExecutionContext,
    moengage: MoEngageResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Push each partition of the run in turn, then yield metadata and the reject check.

    Raises:
        dagster.Failure: When MoEngage did not accept some bodies (after every partition was
            tried); a retry sends only those, the push ledger skipping what was accepted.
    """
    spec = component.get_asset_spec()
    mapping = load_mapping(component.mapping)
    sync_name = spec.key.to_user_string()
    options = PushOptions(
        max_body_bytes=moengage.max_body_bytes,
        concurrency=moengage.concurrency,
        resend=component.resend,
    )
    reports: list[PushReport] = []
    with moengage.get_client() as client, Warehouse.open(warehouse.output_url()) as results:
        dead_letters = DeadLetterWriter(results)
        ledger = PushLedger(results, run_id=context.run.run_id)
        # MoEngage cannot look a catalog up by name: its id is remembered with the results.
        catalog_state = WarehouseCatalogState(results)
        for partition, window in _windows(context):
            source = component_source(component, warehouse.url)
            observe_plan(context, spec.key, source, mapping, client, sync_name=sync_name,
                         partition=partition, window=window, options=options,
                         catalog_state=catalog_state, ledger=ledger)
            report = run_push(
                source,
                mapping,
                client,
                sync_name=sync_name,
                partition=partition,
                window=window,
                dead_letters=dead_letters,
                options=options,
                catalog_state=catalog_state,
                ledger=ledger,
                run_id=context.run.run_id,
            )
            context.log.info(f"{sync_name} {partition or ''}: {report.summary()}")
            reports.append(report)
        history = sync_run_metadata(results, sync_name, len(reports))

    total = PushReport.combine(reports)
    metadata = {**push_metadata(total, partitions=len(reports)), **history}
    if total.failed_bodies:
        ambiguous = (
            f", {total.ambiguous_rows} of them in bodies whose answer was lost after sending "
            "(MoEngage may have applied them)" if total.ambiguous_bodies else ""
        )
        stopped = f" Delivery stopped after: {total.stop_reason}." if total.stop_reason else ""
        raise dg.Failure(
            description=(
                f"{total.failed_rows} rows of {sync_name} in {total.failed_bodies} bodies were "
                f"not delivered{ambiguous}; see {DeadLetterWriter.DEFAULT_TABLE}.{stopped} A "
                f"retry sends only those: bodies accepted are in {PushLedger.DEFAULT_TABLE}."
            ),
            metadata=metadata,
            allow_retries=True,
        )
    if total.bodies_held:
        raise dg.Failure(
            description=(
                f"{total.rows_held} rows of {sync_name} in {total.bodies_held} bodies were held "
                "back: an earlier answer was lost, so MoEngage may have applied them, and "
                "resend is 'never'. Set resend: ambiguous to send them (a duplicate is "
                f"possible); see {DeadLetterWriter.DEFAULT_TABLE}."
            ),
            metadata=metadata,
            allow_retries=False,
        )
    yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)
    rows_read, rejected = total.rows_read, total.rows_rejected
    reject_rate = rejected / rows_read if rows_read else 0.0
    yield dg.AssetCheckResult(
        check_name=REJECTS_CHECK,
        asset_key=spec.key,
        passed=reject_rate <= component.max_reject_rate,
        severity=dg.AssetCheckSeverity[component.reject_check_severity],
        description=(
            f"{rejected} of {rows_read} rows rejected ({reject_rate:.1%}); "
            f"threshold {component.max_reject_rate:.1%}; see {DeadLetterWriter.DEFAULT_TABLE}"
        ),
        metadata={
            "rows_rejected": rejected,
            "reject_rate": round(reject_rate, 6),
            "max_reject_rate": component.max_reject_rate,
            "dead_letter_table": DeadLetterWriter.DEFAULT_TABLE,
        },
    )
