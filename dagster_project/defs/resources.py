"""Bind the resources every asset uses; secrets come from the environment at run time."""

import dagster as dg

from dagster_project.resources import MoEngageResource, WarehouseResource


@dg.definitions
def resources() -> dg.Definitions:
    """The ``moengage`` and ``warehouse`` resources, read from ``MOENGAGE_*`` variables."""
    return dg.Definitions(
        resources={
            "moengage": MoEngageResource(
                workspace_id=dg.EnvVar("MOENGAGE_WORKSPACE_ID"),
                data_api_key=dg.EnvVar("MOENGAGE_DATA_API_KEY"),
                campaign_api_key=dg.EnvVar("MOENGAGE_CAMPAIGN_API_KEY"),
            ),
            "warehouse": WarehouseResource(
                url=dg.EnvVar("MOENGAGE_WAREHOUSE_URL"),
            ),
        }
    )
