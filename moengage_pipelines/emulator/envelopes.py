"""Error bodies in each MoEngage API family's own shape.

MoEngage has no single error format: the Data APIs answer ``{"status":"fail","error":{...}}``,
campaign-stats ``{title, description, code}``, the campaigns APIs
``{"error":{code, message, target, details, request_id}}``, catalog
``{"error-code", "message"}`` and the report download
``{"error":{attribute, message, type, request_id}}``. Every endpoint names its envelope, and
every error the emulator produces (including for bad requests to unknown paths) goes through
one of these.
"""

from __future__ import annotations

from moengage_pipelines.emulator.data_envelopes import DataEnvelope, MergeEnvelope
from moengage_pipelines.emulator.envelope_base import ACCOUNT_ANSWERS, Envelope
from moengage_pipelines.emulator.family_envelopes import (
    CATALOG_ERROR_CODES,
    CampaignsEnvelope,
    CatalogEnvelope,
    ReportEnvelope,
    StatsEnvelope,
)

__all__ = [
    "ACCOUNT_ANSWERS",
    "CAMPAIGNS",
    "CATALOG",
    "CATALOG_ERROR_CODES",
    "DATA",
    "REPORTS",
    "STATS",
    "CampaignsEnvelope",
    "CatalogEnvelope",
    "DataEnvelope",
    "Envelope",
    "MergeEnvelope",
    "ReportEnvelope",
    "StatsEnvelope",
]

DATA = DataEnvelope()
STATS = StatsEnvelope()
CAMPAIGNS = CampaignsEnvelope()
CATALOG = CatalogEnvelope()
REPORTS = ReportEnvelope()
