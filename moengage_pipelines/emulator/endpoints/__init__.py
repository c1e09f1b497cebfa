"""Endpoint families. Each module has ``register(router, emulator)`` adding its routes.

To add a family, write a module here and list it in ``ENDPOINT_MODULES``.
"""

from __future__ import annotations

from moengage_pipelines.emulator.endpoints import (
    campaign_meta,
    campaigns,
    catalog,
    data,
    inspection,
    reports,
    stats,
)

__all__ = ["ENDPOINT_MODULES"]

ENDPOINT_MODULES = (data, campaigns, campaign_meta, stats, catalog, reports, inspection)
