"""``conform_batches``: driver batches brought to one schema and to ``batch_rows`` rows."""

from __future__ import annotations

import pyarrow as pa
import pytest

from moengage_pipelines.sources.batch_stream import SchemaChangedError, conform_batches

SCHEMA = pa.schema([("id", pa.int64()), ("at", pa.timestamp("ns", "UTC"))])


def _batch(ids: pa.Array, tz: str = "Etc/UTC") -> pa.RecordBatch:
    at = pa.array([0] * len(ids), pa.timestamp("ns", tz))
    return pa.RecordBatch.from_arrays([ids, at], names=["id", "at"])


def test_narrow_integers_and_zone_names_are_cast_and_batches_sliced() -> None:
    batches = [_batch(pa.array([1, 2, 3], pa.int8())), _batch(pa.array([], pa.int64())),
               _batch(pa.array(range(4, 11), pa.int64()), tz="UTC")]
    out = list(conform_batches(batches, SCHEMA, 3, "table 't'"))
    assert [batch.num_rows for batch in out] == [3, 3, 3, 1]
    assert all(batch.schema == SCHEMA for batch in out)
    assert pa.Table.from_batches(out).column("id").to_pylist() == list(range(1, 11))


def test_a_type_that_cannot_be_cast_names_the_column_and_batch() -> None:
    batches = [_batch(pa.array([1], pa.int64())), _batch(pa.array(["x"], pa.string()))]
    with pytest.raises(SchemaChangedError, match=r"column 'id' of table 't' changed type in "
                                                 r"batch 2: expected int64, got string"):
        list(conform_batches(batches, SCHEMA, 10, "table 't'"))


def test_other_columns_are_an_error() -> None:
    renamed = pa.RecordBatch.from_pydict({"ID": [1], "at": pa.array([0], pa.timestamp("ns"))})
    with pytest.raises(SchemaChangedError, match=r"columns of table 't' changed in batch 1"):
        list(conform_batches([renamed], SCHEMA, 10, "table 't'"))
