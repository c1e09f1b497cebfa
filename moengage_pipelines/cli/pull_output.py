"""What ``moengage-pipelines pull`` shows: one JSON document per command, failures included.

Every command prints exactly one JSON document on stdout, whatever happens: the pull's
summary plus what the HTTP client really did (``requests`` sent, retries included, ``retries``,
``http_429``, ``http_5xx``). When a pull fails part-way, the document still says what was
committed before the ``error:`` line on stderr.
"""

from __future__ import annotations

import sys
from typing import Any

import orjson

__all__ = ["client_counters", "print_document", "report_document", "stats_document"]

# ClientStats field → summary key.
_COUNTERS = {
    "requests": "requests",
    "retries": "retries",
    "http_429": "http_429",
    "http_5xx": "http_5xx",
    "transport_errors": "transport_errors",
    "budget_wait_seconds": "rate_budget_wait_seconds",
}


def client_counters(stats: Any) -> dict[str, Any]:
    """What the client did: HTTP requests sent (retries included), retries, 429s and 5xx.

    Args:
        stats: A ``ClientStats`` snapshot (``MoEngageClient.stats``).
    """
    values = stats.as_dict()
    counters: dict[str, Any] = {key: values[name] for name, key in _COUNTERS.items()}
    counters["rate_budget_wait_seconds"] = round(counters["rate_budget_wait_seconds"], 3)
    return counters


def stats_document(report: Any, counters: dict[str, Any], error: str | None) -> dict[str, Any]:
    """The summary of ``pull stats``: the report, per-day totals, the client's counters.

    The report's own ``requests`` (stats requests answered, retries not counted) is shown as
    ``stats_requests``; ``requests`` is what was sent.
    """
    summary = report.to_metadata()
    summary["stats_requests"] = summary.pop("requests")
    summary.update(counters)
    summary["per_day"] = {
        day.day.isoformat(): {"rows": day.rows, "stats_requests": day.requests, **day.totals}
        for day in report.days
    }
    summary["error"] = error
    return summary


def report_document(
    outcomes: list[dict[str, Any]], counters: dict[str, Any], error: str | None
) -> dict[str, Any]:
    """The summary of ``pull report``: one entry per ``--report-name``, in order."""
    return {
        "reports": outcomes,
        "loaded": sum(1 for outcome in outcomes if outcome.get("status") == "ok"),
        **counters,
        "error": error,
    }


def print_document(document: dict[str, Any]) -> None:
    """Write one indented JSON document and a newline on stdout."""
    sys.stdout.write(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n")
