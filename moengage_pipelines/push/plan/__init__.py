"""Plan: what a push will send and how long MoEngage's rate budget makes it take.

Computed from counts alone (a dry run's report, or any row and body counts), without
sending: see ``budget``.
"""

from moengage_pipelines.push.plan.budget import PushPlan, plan_counts, plan_push

__all__ = ["PushPlan", "plan_counts", "plan_push"]
