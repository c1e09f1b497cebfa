"""What ``moengage-pipelines push`` shows: a live line while pushing, the totals at the end."""

from __future__ import annotations

from typing import Any

from moengage_pipelines.push.report import PushReport

__all__ = ["Progress", "print_plan", "print_report"]


class Progress:
    """A live line while pushing (only when stdout is a terminal)."""

    def __init__(self, dry_run: bool) -> None:
        self.dry_run = dry_run
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> Progress:
        from rich.console import Console

        # Rich decides whether stdout is a terminal (TTY_COMPATIBLE/FORCE_COLOR override it).
        console = Console()
        if console.is_terminal:
            from rich.progress import Progress as RichProgress
            from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = RichProgress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                console=console, transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task("reading", total=None)
        return self

    def update(self, report: PushReport) -> None:
        """Show the running totals."""
        if self._progress is None:
            return
        verb = "packed" if self.dry_run else "sent"
        self._progress.update(
            self._task,
            description=(
                f"{report.rows_read:,} rows read, {report.rows_valid:,} valid, "
                f"{report.rows_rejected:,} rejected, {report.bodies:,} bodies {verb}"
            ),
        )

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)


def print_report(report: PushReport, *, state: str | None) -> None:
    """Print the totals: every valid row once, as sent, skipped, held or failed.

    Args:
        report: The push's report.
        state: Where the delivery state is (for the lines about it), None without one.
    """
    verb = "packed (dry run)" if report.dry_run else "sent"
    lines = [
        f"rows read:     {report.rows_read:,}",
        f"rows valid:    {report.rows_valid:,}",
        f"rows rejected: {report.rows_rejected:,}",
    ]
    for rule, count in sorted(report.rejected_by_rule.items()):
        lines.append(f"  {rule}: {count:,}")
    millis = report.rejected_by_rule.get("event_time_in_milliseconds", 0)
    if millis:
        lines.append(
            f"hint: {millis:,} event times look like epoch milliseconds; set "
            "event_time_unit: ms in the mapping"
        )
    lines += [
        f"{report.entity} {verb}: {report.rows_sent:,}",
        f"bodies:        {report.bodies:,} (ideal {report.ideal_bodies:,}, "
        f"limit {report.max_body_bytes:,} bytes)",
        f"bytes:         {report.bytes_sent:,}",
    ]
    if report.items_updated or report.items_deleted:
        lines.append(f"items updated: {report.items_updated:,}, deleted: {report.items_deleted:,}")
    if state is not None:
        lines.append(
            f"rows skipped:  {report.rows_skipped:,} in {report.bodies_skipped:,} bodies "
            "already accepted by MoEngage"
        )
    if report.rows_unchanged or report.rows_retried or report.rows_refreshed or (
        report.duplicate_keys
    ):
        lines.append(
            f"diff:          {report.rows_new:,} new, {report.rows_changed:,} changed, "
            f"{report.rows_unchanged:,} unchanged (not sent)"
            + (f", {report.rows_refreshed:,} unchanged resent (--full)"
               if report.rows_refreshed else "")
        )
    if report.rows_retried:
        lines.append(
            f"retrying:      {report.rows_retried:,} rows an earlier run could not confirm "
            "(failed, held or interrupted)"
        )
    if report.duplicate_keys:
        lines.append(
            f"repeated keys: {report.duplicate_keys:,} rows repeat a key met earlier "
            f"({report.rows_superseded:,} not sent: the last occurrence wins)"
        )
    if report.bodies_held:
        lines.append(
            f"rows held:     {report.rows_held:,} in {report.bodies_held:,} bodies: an earlier "
            "answer was lost, MoEngage may have applied them; not sent under --resend never "
            "(rerun with --resend ambiguous to send them)"
        )
    if report.failed_bodies:
        lines.append(f"rows failed:   {report.failed_rows:,} in {report.failed_bodies:,} bodies")
        if report.ambiguous_bodies:
            lines.append(
                f"  ambiguous: {report.ambiguous_rows:,} rows in {report.ambiguous_bodies:,} "
                "bodies: the answer was lost after sending, MoEngage may have applied them; "
                "the next run sends them again"
            )
        if report.stop_reason:
            lines.append(f"  stopped after: {report.stop_reason}")
    if not report.dry_run:
        lines.append(f"retries:       {report.retries:,} ({report.http_429:,} x 429)")
    lines.append(f"state:         {state or 'none (--no-state)'}")
    lines.append(f"duration:      {report.duration_seconds:.2f}s")
    print("\n".join(lines))


def print_plan(report: PushReport) -> None:
    """Print a dry run's plan: rows by class, requests, and the ETA at the rate budget."""
    from moengage_pipelines.push.plan import plan_push

    print("\n".join(plan_push(report).lines()))
