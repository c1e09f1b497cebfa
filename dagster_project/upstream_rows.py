"""Rows from an upstream asset: a push reading what another asset's IO manager loads.

A push component whose ``source`` names ``upstream: <asset key>`` gets that asset as an input:
Dagster loads its value through the asset's own IO manager (``dagster-duckdb``,
``dagster-snowflake``, ``dagster-gcp``, a filesystem one, ...) for the partitions of the run,
so the push needs no second connection to the warehouse. The value may be

* a pandas DataFrame or a pyarrow Table (or anything exporting an Arrow stream, such as a
  polars DataFrame): it is already in memory, and is pushed from there;
* a path or URI to Parquet (a ``str`` or ``os.PathLike``: a file, folder, glob, ``s3://`` or
  ``gs://`` location): it is streamed with ``ParquetSource``, with bounded memory.

Either way the time window of each daily partition is applied again here, so an upstream
loaded whole (unpartitioned, or a wider range) pushes only the rows of each day.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import dagster as dg
import pyarrow as pa

from dagster_project.source_model import SourceModel
from moengage_pipelines.sources import ArrowTableSource, ParquetSource, Source, SourceError

__all__ = [
    "UPSTREAM_INPUT",
    "bound_rows",
    "rows_bound",
    "upstream_ins",
    "with_upstream_dep",
]

UPSTREAM_INPUT = "upstream_rows"

# The source of the component whose step is running, while it runs (see ``rows_bound``).
_BOUND: ContextVar[tuple[object, Source] | None] = ContextVar("upstream_rows", default=None)


def upstream_ins(source: SourceModel) -> dict[str, dg.AssetIn]:
    """The push asset's input: the upstream asset named in ``source``, if any."""
    if not source.upstream:
        return {}
    return {UPSTREAM_INPUT: dg.AssetIn(key=dg.AssetKey.from_user_string(source.upstream))}


def with_upstream_dep(spec: dg.AssetSpec, source: SourceModel) -> dg.AssetSpec:
    """``spec`` depending on the upstream asset too (an asset input must be a dependency).

    It is added here rather than in the YAML ``deps``: those get a blocking column check that
    reads the source, and upstream rows exist only as an input of the push step.
    """
    if not source.upstream:
        return spec
    key = dg.AssetKey.from_user_string(source.upstream)
    if any(dep.asset_key == key for dep in spec.deps):
        return spec
    return spec.merge_attributes(deps=[key])


@contextmanager
def rows_bound(component: Any, loaded: Mapping[str, Any]) -> Iterator[None]:
    """While the push step runs, make ``component``'s source the loaded upstream value.

    Args:
        component: The push component (its ``source`` says the asset key and time column).
        loaded: The step's inputs: ``{UPSTREAM_INPUT: value}``, or empty for other sources.
    """
    if UPSTREAM_INPUT not in loaded:
        yield
        return
    source = upstream_source(loaded[UPSTREAM_INPUT], component.source)
    previous = _BOUND.get()
    _BOUND.set((component, source))
    try:
        yield
    finally:
        _BOUND.set(previous)


def bound_rows(component: Any) -> Source | None:
    """The upstream rows bound to ``component`` for the running step, else ``None``.

    Raises:
        SourceError: If ``component`` reads an upstream asset but none is loaded (its rows
            exist only inside the push step, as an input).
    """
    bound = _BOUND.get()
    if bound is not None and bound[0] is component:
        return bound[1]
    if component.source.upstream:
        raise SourceError(
            f"the rows of upstream asset {component.source.upstream!r} are loaded by its IO "
            "manager as an input of the push step; they cannot be read outside it"
        )
    return None


def upstream_source(value: Any, source: SourceModel) -> Source:
    """The library source over an upstream asset's value.

    Raises:
        SourceError: If the value is of a kind that cannot be pushed.
    """
    name = f"upstream asset {source.upstream}"
    if isinstance(value, (str, os.PathLike)):
        return ParquetSource(os.fspath(value), time_column=source.time_column)
    if isinstance(value, pa.RecordBatch):
        value = pa.Table.from_batches([value])
    elif _is_pandas(value):
        value = pa.Table.from_pandas(value, preserve_index=False)
    elif not isinstance(value, pa.Table) and hasattr(value, "__arrow_c_stream__"):
        value = pa.table(value)
    if not isinstance(value, pa.Table):
        raise SourceError(
            f"{name} loaded a {type(value).__name__}; a push takes a pandas DataFrame, an "
            "Arrow table or a path to Parquet"
        )
    return ArrowTableSource(value, time_column=source.time_column, name=name)


def _is_pandas(value: Any) -> bool:
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency of the project
        return False
    return isinstance(value, pd.DataFrame)
