"""Talking to MoEngage: the HTTP client, retries, rate budgets and error envelopes.

* :class:`~moengage_pipelines.api.client.MoEngageClient`: the client.
* :mod:`moengage_pipelines.api.retries`: :class:`RetryConfig` and the retry policy.
* :mod:`moengage_pipelines.api.ratebudget`: :class:`RateBudget` shared across processes.
"""

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import ClientStats, RequestTrace
from moengage_pipelines.api.exceptions import (
    MoEngageConnectionError,
    RateBudgetError,
    RateBudgetTimeoutError,
)
from moengage_pipelines.api.ratebudget import RateBudget, Window
from moengage_pipelines.api.retries import RetryConfig, RetryPolicy

__all__ = [
    "ClientStats",
    "MoEngageClient",
    "MoEngageConnectionError",
    "RateBudget",
    "RateBudgetError",
    "RateBudgetTimeoutError",
    "RequestTrace",
    "RetryConfig",
    "RetryPolicy",
    "Window",
]
