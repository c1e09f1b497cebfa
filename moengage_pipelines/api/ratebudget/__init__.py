"""Weighted multi-window rate budgets shared by every process that hits one workspace.

* :class:`RateBudget` waits until a request's cost fits every window, then records it.
* Stores: :class:`MemoryBudgetStore` (one process), :class:`SQLiteBudgetStore` (one
  machine, the default), :class:`RedisBudgetStore` (several machines).
* :func:`default_limits` holds MoEngage's documented budgets.
* :func:`budget_for_workspace` builds the budget all clients of a workspace share.
"""

from moengage_pipelines.api.ratebudget.adaptive import Adaptation
from moengage_pipelines.api.ratebudget.budget import RateBudget
from moengage_pipelines.api.ratebudget.factory import (
    BUDGET_STORE_VARIABLE,
    budget_for_workspace,
    budget_from_environment,
    checked_budget,
    namespace_for,
)
from moengage_pipelines.api.ratebudget.memory import MemoryBudgetStore
from moengage_pipelines.api.ratebudget.redis import RedisBudgetStore
from moengage_pipelines.api.ratebudget.sqlite import SQLiteBudgetStore, default_budget_path
from moengage_pipelines.api.ratebudget.store import BucketRequest, BudgetStore
from moengage_pipelines.api.ratebudget.windows import (
    CAMPAIGN_STATS,
    CAMPAIGNS,
    CATALOG,
    GET_USER,
    TRANSITION_EVENTS,
    TRANSITION_USERS,
    BudgetLimits,
    Window,
    default_limits,
)

__all__ = [
    "BUDGET_STORE_VARIABLE",
    "CAMPAIGNS",
    "CAMPAIGN_STATS",
    "CATALOG",
    "GET_USER",
    "TRANSITION_EVENTS",
    "TRANSITION_USERS",
    "Adaptation",
    "BucketRequest",
    "BudgetLimits",
    "BudgetStore",
    "MemoryBudgetStore",
    "RateBudget",
    "RedisBudgetStore",
    "SQLiteBudgetStore",
    "Window",
    "budget_for_workspace",
    "budget_from_environment",
    "checked_budget",
    "default_budget_path",
    "default_limits",
    "namespace_for",
]
