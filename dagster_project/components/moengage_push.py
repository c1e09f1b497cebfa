"""``MoEngagePushComponent``: one YAML document per pushed entity (users, events, catalog items).

The component only wires Dagster to the library: it reads the source named in YAML, calls
``moengage_pipelines.push.pipeline.run_push`` once per daily partition in the run, and turns the
``PushReport`` into metadata and an asset check. Every body sent is recorded in the push ledger
of the results warehouse, so a retried or re-run partition sends only what MoEngage has not
accepted yet: that is what makes the asset's retry policy safe for events.
"""


from collections.abc import Iterator
from typing import Any, Literal

import dagster as dg
from pydantic import Field, model_validator

from dagster_project.partitions import DAILY
from dagster_project.push_execution import (
    REJECTS_CHECK,
    run_component_push,
    source_columns_report,
)
from dagster_project.reconciliation_check import reconciliation_check
from dagster_project.resources import MoEngageResource, WarehouseResource
from dagster_project.source_model import SourceModel
from moengage_pipelines.push.mapping import load_mapping

__all__ = ["MoEngagePushComponent", "SourceModel"]


class MoEngagePushComponent(dg.Component, dg.Model, dg.Resolvable):
    """Push one warehouse table to MoEngage as users, events or catalog items.

    Each instance becomes one asset (``asset.key``, e.g. ``moengage/users``), partitioned daily
    when the source has a ``time_column``, with a check that fails when more rows were rejected
    than ``max_reject_rate`` allows. Rejected rows land in the dead-letter table.

    Override ``execute`` to change how a push runs, or ``get_asset_spec`` to change the spec.
    """

    asset: dg.ResolvedAssetSpec = Field(description="Key, group, deps, kinds, owners of the asset.")
    source: SourceModel = Field(description="Where the rows come from.")
    mapping: dict[str, Any] = Field(
        description="How rows become MoEngage users, events or catalog items (see mapping docs)."
    )
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
        description="Retries of a failed push step; the ledger makes them send only what is left.",
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
        description="Wait before the first retry; doubles for each next one, with jitter.",
    )

    @model_validator(mode="after")
    def _mapping_is_valid(self) -> "MoEngagePushComponent":
        # Fail at load time (dg check defs) rather than at 2 a.m. in the nightly run.
        load_mapping(self.mapping)
        return self

    def get_asset_spec(self) -> dg.AssetSpec:
        """The spec of the pushed asset; kinds always include ``moengage``."""
        return self.asset.merge_attributes(kinds={"moengage"})

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Build the push asset and its reject check."""
        spec = self.get_asset_spec()
        partitioned = self.source.time_column is not None
        component = self

        @dg.multi_asset(
            name=f"push_{spec.key.to_python_identifier()}",
            specs=[spec],
            partitions_def=DAILY if partitioned else None,
            # A UI backfill of a year becomes runs of a week each: a failed week is retried, not
            # the year, and each day inside keeps its own window and dead letters.
            backfill_policy=dg.BackfillPolicy.multi_run(7) if partitioned else None,
            pool=self.pool,
            # Safe to retry: the push ledger skips the bodies MoEngage already accepted.
            retry_policy=dg.RetryPolicy(
                max_retries=self.max_retries,
                delay=self.retry_delay_seconds,
                backoff=dg.Backoff.EXPONENTIAL,
                jitter=dg.Jitter.PLUS_MINUS,
            ),
            check_specs=[
                dg.AssetCheckSpec(
                    REJECTS_CHECK,
                    asset=spec.key,
                    description="Rejected (dead-lettered) rows stay under max_reject_rate.",
                    blocking=self.reject_check_severity == "ERROR",
                )
            ],
        )
        def _push(
            context: dg.AssetExecutionContext,
            moengage: MoEngageResource,
            warehouse: WarehouseResource,
        ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
            yield from component.execute(context, moengage, warehouse)

        checks = [self._source_columns_check(dep.asset_key, spec) for dep in spec.deps]
        if self.verify_sample:
            checks.append(reconciliation_check(self, spec))
        return dg.Definitions(assets=[_push], asset_checks=checks)

    def _source_columns_check(
        self, source_key: dg.AssetKey, spec: dg.AssetSpec
    ) -> dg.AssetChecksDefinition:
        """A blocking check that the source still has every column the mapping reads."""
        component = self

        @dg.asset_check(
            asset=source_key,
            name=f"has_columns_for_{spec.key.to_python_identifier()}",
            blocking=True,
            description=(
                f"The source of {spec.key.to_user_string()} has every column its mapping reads; "
                "a renamed or dropped column stops the push before anything is sent."
            ),
        )
        def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
            return source_columns_report(component, warehouse)

        return _check

    def execute(
        self,
        context: dg.AssetExecutionContext,
        moengage: MoEngageResource,
        warehouse: WarehouseResource,
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        """Run the push for every partition of the run and report it."""
        yield from run_component_push(self, context, moengage, warehouse)
