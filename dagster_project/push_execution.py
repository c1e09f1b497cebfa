"""How a push asset runs: check the source's columns, push each daily partition, report each.

The column check runs inside the push step, before anything is sent, so it gates every way a
push is launched (a job, a UI materialization or backfill, a schedule, ``dg launch``): the check
belongs to the push asset, and Dagster selects an asset's checks with it. Each partition of a
ranged run gets its own materialization metadata (its own counts and partition key).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal, Protocol

import dagster as dg
import pyarrow as pa

from dagster_project.metadata import push_metadata, rejects_table
from dagster_project.partitions import DAILY
from dagster_project.push_failures import failure_for_error, is_permanent_status
from dagster_project.resources import MoEngageResource, WarehouseResource
from dagster_project.sent_schema import sent_column_schema
from dagster_project.source_model import SourceModel
from dagster_project.sync_metadata import observe_plan
from dagster_project.upstream_rows import bound_rows
from moengage_pipelines.errors import MoEngageError
from moengage_pipelines.push.catalog.state import WarehouseCatalogState
from moengage_pipelines.push.dead_letters import DeadLetterWriter
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.mapping import EntityMapping
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.report import PushReport
from moengage_pipelines.redaction import scrub_secrets, url_secrets
from moengage_pipelines.sources import Source, TimeWindow, open_source
from moengage_pipelines.warehouse import Warehouse

__all__ = [
    "REJECTS_CHECK",
    "PushDefinition",
    "columns_check_name",
    "component_source",
    "run_component_push",
    "source_columns_report",
]

REJECTS_CHECK = "rejected_rows_within_threshold"


def columns_check_name(key: dg.AssetKey) -> str:
    """Name of the blocking check that the source has every column the push's mapping reads."""
    return f"has_columns_for_{key.to_python_identifier()}"


class PushDefinition(Protocol):
    """What a push asset is made of: a ``MoEngagePushComponent`` as read from YAML."""

    source: SourceModel
    mapping: EntityMapping
    resend: Literal["ambiguous", "never", "always"] | None
    max_reject_rate: float
    reject_check_severity: Literal["WARN", "ERROR"]

    def get_asset_spec(self) -> dg.AssetSpec:
        """The spec of the pushed asset."""
        ...


def component_source(component: PushDefinition, warehouse_url: str) -> Source:
    """The library source a component's ``source`` block names."""
    if (upstream := bound_rows(component)) is not None:
        return upstream
    return open_source(
        component.source.parquet or warehouse_url,
        table=component.source.table,
        sql=component.source.sql,
        time_column=component.source.time_column,
        order_by=component.source.order_by,
    )


def _columns_result(
    component: PushDefinition, source: Source, schema: pa.Schema
) -> dg.AssetCheckResult:
    needed = component.mapping.columns()
    if component.source.time_column:
        needed = [*needed, component.source.time_column]
    missing = sorted(set(needed) - set(schema.names))
    return dg.AssetCheckResult(
        check_name=columns_check_name(component.get_asset_spec().key),
        asset_key=component.get_asset_spec().key,
        passed=not missing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=f"missing columns: {', '.join(missing)}" if missing else None,
        metadata={"source": source.describe(), "missing_columns": missing, "needed": needed},
    )


def source_columns_report(
    component: PushDefinition, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    """Check that the source has every column the component's mapping reads."""
    source = component_source(component, warehouse.url)
    return _columns_result(component, source, source.schema())


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


def _secrets(moengage: MoEngageResource, warehouse: WarehouseResource) -> list[str | None]:
    return [
        moengage.data_api_key,
        moengage.campaign_api_key,
        *url_secrets(warehouse.url),
        *url_secrets(warehouse.output_url()),
    ]


def _selected(context: dg.AssetExecutionContext, key: dg.AssetKey, name: str) -> bool:
    return dg.AssetCheckKey(key, name) in context.selected_asset_check_keys


def run_component_push(
    component: PushDefinition,
    context: dg.AssetExecutionContext,
    moengage: MoEngageResource,
    warehouse: WarehouseResource,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Check the source, push each partition of the run in turn, then report each partition.

    Raises:
        dagster.Failure: Not retried when a retry would fail the same way (missing columns,
            refused credentials, a bad mapping or setting); retried when MoEngage did not
            accept some bodies for a reason that may pass (the push ledger then skips what
            was accepted).
    """
    spec = component.get_asset_spec()
    sync_name = spec.key.to_user_string()
    secrets = _secrets(moengage, warehouse)
    try:
        source = component_source(component, warehouse.url)
        schema = source.schema()
    except MoEngageError as error:
        raise failure_for_error(error, sync_name=sync_name, secrets=secrets) from error
    columns = _columns_result(component, source, schema)
    if _selected(context, spec.key, columns_check_name(spec.key)):
        yield columns
    if not columns.passed:
        raise dg.Failure(
            description=(
                f"{sync_name}: the source lacks columns the mapping reads "
                f"({columns.description}); nothing was sent. Not retried: fix the source or "
                "the mapping and re-run."
            ),
            metadata=dict(columns.metadata),
            allow_retries=False,
        )

    reports = _push_partitions(component, context, moengage, warehouse, secrets)
    for report in reports:
        # MoEngage's words end up in the UI: a server echoing a key must not show it there.
        report.stop_reason = scrub_secrets(
            report.stop_reason, secrets, basic_auth_user=moengage.workspace_id
        )
    sent_schema = sent_column_schema(component.mapping, schema)
    total = PushReport.combine(reports)
    _raise_if_undelivered(total, sync_name)
    if context.assets_def.partitions_def is None:
        yield dg.MaterializeResult(
            asset_key=spec.key, metadata=push_metadata(total, column_schema=sent_schema)
        )
    else:
        for report in reports:
            # Partition-scoped metadata: each partition of a ranged run shows its own figures.
            context.add_asset_metadata(
                push_metadata(report, column_schema=sent_schema),
                asset_key=spec.key,
                partition_key=report.partition,
            )
        yield dg.MaterializeResult(asset_key=spec.key)
    if _selected(context, spec.key, REJECTS_CHECK):
        yield _rejects_result(component, spec.key, total, len(reports))


def _push_partitions(
    component: PushDefinition,
    context: dg.AssetExecutionContext,
    moengage: MoEngageResource,
    warehouse: WarehouseResource,
    secrets: list[str | None],
) -> list[PushReport]:
    sync_name = component.get_asset_spec().key.to_user_string()
    options = PushOptions(
        max_body_bytes=moengage.max_body_bytes,
        concurrency=moengage.concurrency,
        resend=component.resend,
    )
    reports: list[PushReport] = []
    try:
        with moengage.get_client() as client, Warehouse.open(warehouse.output_url()) as results:
            dead_letters = DeadLetterWriter(results)
            ledger = PushLedger(results, run_id=context.run.run_id)
            # MoEngage cannot look a catalog up by name: its id is remembered with the results.
            catalog_state = WarehouseCatalogState(results)
            for partition, window in _windows(context):
                source = component_source(component, warehouse.url)
                # The plan (rows new, changed, unchanged, retried; bodies; ETA) shows before
                # anything is sent.
                observe_plan(
                    context, component.get_asset_spec().key, source, component.mapping, client,
                    sync_name=sync_name, partition=partition, window=window, options=options,
                    catalog_state=catalog_state, ledger=ledger,
                )
                report = run_push(
                    source,
                    component.mapping,
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
                if is_permanent_status(report.stop_status):
                    break  # every next partition would meet the same refusal
    except MoEngageError as error:
        done = push_metadata(PushReport.combine(reports)) if reports else {}
        raise failure_for_error(
            error, sync_name=sync_name, secrets=secrets, metadata=done
        ) from error
    return reports


def _raise_if_undelivered(total: PushReport, sync_name: str) -> None:
    metadata = push_metadata(total)
    if total.failed_bodies:
        # Refused for good: the stop (bad credentials) or every failed body (its data).
        permanent = is_permanent_status(total.stop_status) or (
            total.refused_bodies == total.failed_bodies and not total.ambiguous_bodies
        )
        cause = f": {total.stop_reason}" if total.stop_reason else ""
        ambiguous = (
            f" {total.ambiguous_rows} of them were in bodies whose answer was lost after "
            "sending (MoEngage may have applied them)." if total.ambiguous_bodies else ""
        )
        retry = (
            "Not retried: every retry would be refused the same way; fix the cause and re-run."
            if permanent
            else f"A retry sends only those: bodies accepted are in {PushLedger.DEFAULT_TABLE}."
        )
        raise dg.Failure(
            description=(
                f"{sync_name}: MoEngage did not accept {total.failed_rows} rows in "
                f"{total.failed_bodies} bodies{cause}.{ambiguous} See "
                f"{DeadLetterWriter.DEFAULT_TABLE}. {retry}"
            ),
            metadata={**metadata, "cause": total.stop_reason, "retryable": not permanent},
            allow_retries=not permanent,
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


def _rejects_result(
    component: PushDefinition, key: dg.AssetKey, total: PushReport, partitions: int
) -> dg.AssetCheckResult:
    rows_read, rejected = total.rows_read, total.rows_rejected
    reject_rate = rejected / rows_read if rows_read else 0.0
    return dg.AssetCheckResult(
        check_name=REJECTS_CHECK,
        asset_key=key,
        passed=reject_rate <= component.max_reject_rate,
        severity=dg.AssetCheckSeverity[component.reject_check_severity],
        description=(
            f"{rejected} of {rows_read} rows rejected ({reject_rate:.1%}) in {partitions} "
            f"partition(s); threshold {component.max_reject_rate:.1%}; see "
            f"{DeadLetterWriter.DEFAULT_TABLE}"
        ),
        metadata={
            "rows_rejected": rejected,
            "reject_rate": round(reject_rate, 6),
            "max_reject_rate": component.max_reject_rate,
            "rejected_by_rule": rejects_table(total),
            "dead_letter_table": DeadLetterWriter.DEFAULT_TABLE,
        },
    )
