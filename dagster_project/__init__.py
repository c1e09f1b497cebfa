"""Dagster code location for moengage-pipelines."""
