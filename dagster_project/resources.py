"""Dagster resources: configuration only; behaviour lives in ``moengage_pipelines``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import Field

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import BUDGET_STORE_VARIABLE, checked_budget
from moengage_pipelines.config import MoEngageSettings

__all__ = ["MoEngageResource", "WarehouseResource"]


class MoEngageResource(dg.ConfigurableResource):
    """Access to one MoEngage workspace.

    Bind the keys with ``dg.EnvVar`` so the UI shows the variable's name, never its value.
    """

    workspace_id: str = Field(description="MoEngage workspace id (MOENGAGE_WORKSPACE_ID).")
    # repr=False: a key passed as a literal (tests, notebooks) must not show in reprs or logs.
    data_api_key: str = Field(
        description="Data API key (MOENGAGE_DATA_API_KEY); bind with EnvVar.", repr=False
    )
    campaign_api_key: str = Field(
        description="Campaign, catalog, stats and report key (MOENGAGE_CAMPAIGN_API_KEY).",
        repr=False,
    )
    dc: str | None = Field(
        default=None,
        description="Data centre, 01-06 or 101; unset reads MOENGAGE_DC at run time, else 01.",
    )
    base_url: str | None = Field(
        default=None,
        description=(
            "Overrides the data-centre host, e.g. the local emulator; unset reads "
            "MOENGAGE_BASE_URL at run time."
        ),
        repr=False,  # a URL can carry a password
    )
    max_body_bytes: int = Field(
        default=100_000, description="Largest bulk-import body to send, in bytes (limit 100 KB)."
    )
    concurrency: int = Field(default=4, description="Requests in flight at once per step.")
    rate_budget_store: str | None = Field(
        default=None,
        description=(
            "Where the per-workspace rate budget lives, shared by every step and run: 'file' "
            "(one machine, the default), 'redis://host:port/db' (several machines) or 'memory' "
            "(one process); unset reads MOENGAGE_RATE_BUDGET_STORE at run time."
        ),
        repr=False,  # a Redis URL can carry a password
    )

    def settings(self) -> MoEngageSettings:
        """Validated connection settings (raises a clear error on an unknown DC or bad URL)."""
        return MoEngageSettings(
            workspace_id=self.workspace_id,
            data_api_key=self.data_api_key or None,
            campaign_api_key=self.campaign_api_key or None,
            # Optional settings fall back to the environment at run time (never at import), so
            # definitions load without them and deployments need not repeat the defaults.
            dc=self.dc or os.environ.get("MOENGAGE_DC") or "01",
            base_url=self.base_url or os.environ.get("MOENGAGE_BASE_URL") or None,
        )

    @contextmanager
    def get_client(self) -> Iterator[MoEngageClient]:
        """Yield a ``MoEngageClient`` sharing the workspace's rate budget; closed on exit."""
        settings = self.settings()
        store = self.rate_budget_store or os.environ.get(BUDGET_STORE_VARIABLE) or "file"
        setting = "rate_budget_store" if self.rate_budget_store else BUDGET_STORE_VARIABLE
        budget = checked_budget(settings, store, setting=setting)
        try:
            with MoEngageClient(
                settings, budget=budget, max_connections=self.concurrency
            ) as client:
                yield client
        finally:
            budget.close()


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse the pushes read from and the pulls write to.

    ``url`` is ``duckdb:///path/to/file.duckdb`` or ``postgresql://user@host:port/db``.
    ``results_url`` receives dead letters and pulled tables; it defaults to ``url``. With DuckDB
    a separate results file lets parallel steps read the source while others write results.
    """

    # repr=False: a Postgres URL can carry a password.
    url: str = Field(description="Source warehouse URL (MOENGAGE_WAREHOUSE_URL).", repr=False)
    results_url: str | None = Field(
        default=None,
        description="Where dead letters and pulled tables go (MOENGAGE_RESULTS_URL); default url.",
        repr=False,
    )

    def output_url(self) -> str:
        """URL of the database receiving dead letters and pulled tables.

        Unset ``results_url`` reads ``MOENGAGE_RESULTS_URL`` at run time, else uses ``url``.
        """
        return self.results_url or os.environ.get("MOENGAGE_RESULTS_URL") or self.url
