"""moengage-pipelines: move data between a warehouse and MoEngage.

The library never imports Dagster; ``dagster_project`` is a thin layer over it.
"""

__version__ = "0.1.0"
