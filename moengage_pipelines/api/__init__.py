"""Talking to MoEngage: the HTTP client, retries, rate budgets and error envelopes.

* :class:`~moengage_pipelines.api.client.MoEngageClient`: the client.
* :mod:`moengage_pipelines.api.retries`: :class:`RetryConfig` and the retry policy.
* :mod:`moengage_pipelines.api.ratebudget`: :class:`RateBudget` shared across processes.
* :mod:`moengage_pipelines.api.circuit`: :class:`CircuitBreaker`, failing fast on a host that
  refuses every connection.
"""

from moengage_pipelines.api.circuit import CircuitBreaker
from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.counters import ClientStats, RequestTrace
from moengage_pipelines.api.exceptions import (
    MoEngageConnectionError,
    MoEngageUnreachableError,
    RateBudgetError,
    RateBudgetStoreError,
    RateBudgetTimeoutError,
)
from moengage_pipelines.api.ratebudget import RateBudget, Window
from moengage_pipelines.api.retries import RetryConfig, RetryPolicy

__all__ = [
    "CircuitBreaker",
    "ClientStats",
    "MoEngageClient",
    "MoEngageConnectionError",
    "MoEngageUnreachableError",
    "RateBudget",
    "RateBudgetError",
    "RateBudgetStoreError",
    "RateBudgetTimeoutError",
    "RequestTrace",
    "RetryConfig",
    "RetryPolicy",
    "Window",
]
