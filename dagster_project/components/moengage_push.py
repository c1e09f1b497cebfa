"""``MoEngagePushComponent``: one YAML document per pushed entity (users, events, catalog items).

The component only wires Dagster to the library: it reads the source named in YAML, calls
``moengage_pipelines.push.pipeline.run_push`` once per daily partition in the run, and turns
each ``PushReport`` into that partition's metadata and the asset checks. Every body sent is
recorded in the push ledger of the results warehouse, so a retried or re-run partition sends
only what MoEngage has not accepted yet: that is what makes the asset's retry policy safe for
events.
"""


from collections.abc import Iterator
from typing import Annotated, Any, Literal

import dagster as dg
from pydantic import Field, field_validator

from dagster_project.components.mapping_schema import MappingSchema, resolve_mapping
from dagster_project.components.scaffolder import MoEngagePushScaffolder
from dagster_project.partitions import DAILY
from dagster_project.push_execution import (
    REJECTS_CHECK,
    columns_check_name,
    run_component_push,
)
from dagster_project.reconciliation_check import reconciliation_check
from dagster_project.resources import MoEngageResource, WarehouseResource
from dagster_project.sent_schema import sent_column_schema
from dagster_project.source_model import SourceModel
from dagster_project.upstream_rows import rows_bound, upstream_ins, with_upstream_dep
from moengage_pipelines.push.mapping import EntityMapping, load_mapping

__all__ = ["MoEngagePushComponent", "SourceModel"]


@dg.scaffold_with(MoEngagePushScaffolder)
class MoEngagePushComponent(dg.Component, dg.Model, dg.Resolvable):
    """Push one warehouse table to MoEngage as users, events or catalog items.

    Each instance becomes one asset (``asset.key``, e.g. ``moengage/users``), partitioned daily
    when the source has a ``time_column``, with two checks: a blocking one that the source has
    every column the mapping reads (it runs in the push step, before anything is sent), and
    one that fails when more rows were rejected than ``max_reject_rate`` allows. Rejected rows
    land in the dead-letter table.

    To customize, subclass the component and override ``get_asset_spec`` (the spec: key,
    kinds, tags, metadata) or ``execute`` (how a push runs); point ``type:`` in YAML at the
    subclass. See docs/push.md.
    """

    asset: dg.ResolvedAssetSpec = Field(description="Key, group, deps, kinds, owners of the asset.")
    source: SourceModel = Field(description="Where the rows come from.")
    # YAML is checked against ``MappingSchema`` (one schema per entity, in the component's JSON
    # schema); the library's own models then validate it and are what the push uses.
    mapping: Annotated[
        Any,
        dg.Resolver(
            resolve_mapping,
            model_field_type=MappingSchema,
            description=(
                "How rows become MoEngage users, events or catalog items; `entity` picks the "
                "schema (see docs/mapping.md)."
            ),
        ),
    ] = Field(description="How rows become MoEngage users, events or catalog items.")
    pool: str = Field(
        default="moengage_api", description="Dagster concurrency pool shared by MoEngage pushes."
    )
    max_reject_rate: float = Field(
        default=0.01,
        ge=0.0,
        le=1.0,
        description="Share of rows that may be rejected before the asset check fails.",
    )
    reject_check_severity: Literal["WARN", "ERROR"] = Field(
        default="WARN",
        description=(
            "Severity of a failed reject-rate check. Rejected rows are already safe in the "
            "dead-letter table, so the default only warns; ERROR makes it block downstream "
            "assets where a data contract demands it."
        ),
    )
    resend: Literal["ambiguous", "never", "always"] | None = Field(
        default=None,
        description=(
            "Bodies MoEngage may already have applied (their answer was lost): 'ambiguous' "
            "(the default) sends them again, at least once; 'never' holds them back, at most "
            "once, and fails the step listing them; 'always' resends every body, delivered "
            "ones too."
        ),
    )
    max_retries: int = Field(
        default=2,
        ge=0,
        description=(
            "Retries of a push step that failed for a reason that may pass (5xx, timeouts, "
            "429s past the deadline, lost answers); the ledger makes them send only what is "
            "left. Refused credentials, bad settings and missing columns are never retried."
        ),
    )
    verify_sample: int = Field(
        default=0,
        ge=0,
        description=(
            "Users pushes: after each run, read this many random pushed users back with Get "
            "User and warn on any attribute MoEngage does not hold as sent (0: no check)."
        ),
    )
    retry_delay_seconds: float = Field(
        default=60.0,
        ge=0.0,
        description=(
            "Base wait of the retries: retry n waits (2^n - 1) x this, plus or minus this at "
            "random (60: the first retry after 0-120 s, the second after 120-240 s)."
        ),
    )

    @field_validator("mapping", mode="before")
    @classmethod
    def _library_mapping(cls, value: Any) -> EntityMapping:
        # From Python (a dict or a model) as from YAML, the push gets the library's model, and
        # a bad mapping fails at load time (dg check defs), not at 2 a.m. in the nightly run.
        return load_mapping(value)

    def get_asset_spec(self) -> dg.AssetSpec:
        """The spec of the pushed asset.

        Kinds always include ``moengage`` and the source's engine (``duckdb``, ``postgres``,
        ``parquet``) when known; ``dagster/column_schema`` lists the fields sent, as MoEngage
        names them, with the types the mapping declares.
        """
        kinds = {"moengage", *([self.source.engine] if self.source.engine else [])}
        return self.asset.merge_attributes(
            kinds=kinds,
            metadata={
                "dagster/column_schema": dg.MetadataValue.table_schema(
                    sent_column_schema(self.mapping)
                )
            },
        )

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Build the push asset and its reject check."""
        spec = self.get_asset_spec()
        partitioned = self.source.time_column is not None
        component = self

        @dg.multi_asset(
            name=f"push_{spec.key.to_python_identifier()}",
            specs=[with_upstream_dep(spec, self.source)],
            partitions_def=DAILY if partitioned else None,
            # A UI backfill of a year becomes runs of a week each: a failed week is retried, not
            # the year, and each day inside keeps its own window and dead letters.
            backfill_policy=dg.BackfillPolicy.multi_run(7) if partitioned else None,
            pool=self.pool,
            ins=upstream_ins(self.source),
            # Safe to retry: the push ledger skips the bodies MoEngage already accepted.
            retry_policy=dg.RetryPolicy(
                max_retries=self.max_retries,
                delay=self.retry_delay_seconds,
                backoff=dg.Backoff.EXPONENTIAL,
                jitter=dg.Jitter.PLUS_MINUS,
            ),
            check_specs=[
                dg.AssetCheckSpec(
                    columns_check_name(spec.key),
                    asset=spec.key,
                    additional_deps=list(spec.deps),
                    description=(
                        "The source has every column the mapping reads; a renamed or dropped "
                        "column fails it and stops the push before anything is sent."
                    ),
                    blocking=True,
                ),
                dg.AssetCheckSpec(
                    REJECTS_CHECK,
                    asset=spec.key,
                    description="Rejected (dead-lettered) rows stay under max_reject_rate.",
                    blocking=self.reject_check_severity == "ERROR",
                ),
            ],
        )
        def _push(
            context: dg.AssetExecutionContext,
            moengage: MoEngageResource,
            warehouse: WarehouseResource,
            **upstream: Any,
        ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
            with rows_bound(component, upstream):
                yield from component.execute(context, moengage, warehouse)

        checks = [reconciliation_check(self, spec)] if self.verify_sample else []
        return dg.Definitions(assets=[_push], asset_checks=checks)

    def execute(
        self,
        context: dg.AssetExecutionContext,
        moengage: MoEngageResource,
        warehouse: WarehouseResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Check the source, run the push for every partition of the run, and report each.

        Override to change how a push runs; yield the asset's ``MaterializeResult`` and the
        results of the checks selected (``context.selected_asset_check_keys``).
        """
        yield from run_component_push(self, context, moengage, warehouse)
