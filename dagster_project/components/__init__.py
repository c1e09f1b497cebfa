"""Reusable Dagster components of this project."""

from dagster_project.components.moengage_push import MoEngagePushComponent

__all__ = ["MoEngagePushComponent"]
