"""Alerting on failed runs: each one is recorded in the warehouse and posted to a webhook.

``moengage_run_failure_alert`` runs by default (the daemon of ``dg dev`` or of a deployment
evaluates it): it never launches runs, it only writes one row per failed run to
``moengage_run_failures`` in the results warehouse and, when ``MOENGAGE_ALERT_WEBHOOK_URL`` is
set, POSTs the failure as JSON to it.
"""

import os
from datetime import UTC, datetime

import dagster as dg

from dagster_project.resources import WarehouseResource
from dagster_project.run_failures import (
    FAILURES_TABLE,
    WEBHOOK_VARIABLE,
    RunFailure,
    StepFailure,
    post_failure,
    record_failure,
)

_RANGE_START = "dagster/asset_partition_range_start"
_RANGE_END = "dagster/asset_partition_range_end"


def _partition(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    if _RANGE_START in tags:
        return f"{tags[_RANGE_START]}...{tags.get(_RANGE_END, tags[_RANGE_START])}"
    return None


def _step_message(event: dg.DagsterEvent) -> str:
    data = event.step_failure_data
    # A dg.Failure carries its description apart from the error; the error alone may be generic.
    description = data.user_failure_data.description if data.user_failure_data else None
    error = data.error.message.strip() if data.error else ""
    return description or error or event.message or "step failed"


def failure_of(context: dg.RunFailureSensorContext) -> RunFailure:
    """The failed run of a sensor evaluation, as a ``RunFailure`` (not yet scrubbed)."""
    run = context.dagster_run
    record = context.instance.get_run_record_by_id(run.run_id)
    ended = record.end_time if record is not None and record.end_time else None
    steps = tuple(
        StepFailure(event.step_key or "?", _step_message(event))
        for event in context.get_step_failure_events()
    )
    return RunFailure(
        run_id=run.run_id,
        job_name=run.job_name,
        partition=_partition(run),
        failed_at=datetime.fromtimestamp(ended, UTC) if ended else datetime.now(UTC),
        run_message=context.failure_event.message or "",
        steps=steps,
    )


@dg.run_failure_sensor(
    name="moengage_run_failure_alert",
    description=(
        f"Records every failed run in `{FAILURES_TABLE}` and posts it to "
        f"{WEBHOOK_VARIABLE} when that variable is set."
    ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
def moengage_run_failure_alert(
    context: dg.RunFailureSensorContext, warehouse: WarehouseResource
) -> None:
    """Record the failed run, then alert the webhook if one is configured."""
    failure = failure_of(context).scrubbed()
    record_failure(warehouse.output_url(), failure)
    context.log.info(f"recorded failed run {failure.run_id} in {FAILURES_TABLE}")
    url = os.environ.get(WEBHOOK_VARIABLE, "").strip()
    if url:
        post_failure(url, failure)
        context.log.info("posted the failure to the alert webhook")
