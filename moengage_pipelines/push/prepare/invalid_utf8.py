r"""String values that are not valid UTF-8: found and repaired before DuckDB reads a batch.

Parquet files written by other tools may hold bytes that are not UTF-8 in a *string* column,
and Arrow reads them without complaint. DuckDB trusts Arrow strings: ``to_json`` then writes
nothing (an element with ``"x":}``, a body MoEngage refuses with ``400``), and ``trim`` or
``lower`` stop the query with an internal error that invalidates the database. So every
string column of a batch is validated first (one vectorized pass over its bytes, about 3% of
the serialization's time on the benchmark events). In the rare batch that fails, the rows at
fault are found by bisection and their values replaced by a lossy decoding (each bad byte
written ``\xff``, as dead letters show bytes) that DuckDB and the dead letters can read; for
a mapped column, a boolean marker column tells the serialization query to reject those rows
(``invalid_utf8``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["Utf8Repair", "invalid_utf8_marker", "repair_utf8"]

# Slices this short are decoded value by value instead of being bisected further.
_DECODE_BELOW = 32


def invalid_utf8_marker(column: str) -> str:
    """Name of the marker column flagging the rows of ``column`` that held bad bytes."""
    return f"__moengage_invalid_utf8:{column}"


@dataclass(frozen=True, slots=True)
class Utf8Repair:
    """A batch whose strings are all valid UTF-8.

    Attributes:
        batch: The batch with bad values decoded lossily (the input itself when all were
            valid), without marker columns: what dead letters show.
        marked: The same batch plus one marker column per mapped column that held bad
            bytes: what the serialization query reads.
        columns: The mapped columns that held bad bytes.
    """

    batch: pa.RecordBatch | pa.Table
    marked: pa.RecordBatch | pa.Table
    columns: frozenset[str]


def repair_utf8(batch: pa.RecordBatch | pa.Table, mapped: Iterable[str]) -> Utf8Repair:
    """Validate every string column of ``batch``; repair and mark the rows that are not UTF-8.

    Args:
        batch: A source batch.
        mapped: The columns the mapping reads (others are repaired but not marked: they are
            not sent, only shown in dead letters).
    """
    repaired = batch
    markers: dict[str, np.ndarray] = {}
    for index, field in enumerate(batch.schema):
        if not _holds_text(field.type):
            continue
        column = batch.column(index)
        bad = _bad_rows(column)
        if bad is None:
            continue
        repaired = repaired.set_column(index, field, _repaired(column, bad))
        markers[field.name] = bad
    if not markers:
        return Utf8Repair(batch, batch, frozenset())
    marked = repaired
    columns = [name for name in dict.fromkeys(mapped) if name in markers]
    for name in columns:
        marked = marked.append_column(invalid_utf8_marker(name), pa.array(markers[name]))
    return Utf8Repair(repaired, marked, frozenset(columns))


def _holds_text(data_type: pa.DataType) -> bool:
    if pa.types.is_dictionary(data_type):
        return _holds_text(data_type.value_type)
    if _is_flat_text(data_type):
        return True
    return any(_holds_text(data_type.field(i).type) for i in range(data_type.num_fields))


def _is_flat_text(data_type: pa.DataType) -> bool:
    return (
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    )


def _valid(array: pa.Array | pa.ChunkedArray) -> bool:
    if isinstance(array, pa.Array) and _ascii_only(array):
        return True
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _ascii_only(array: pa.Array) -> bool:
    """True when a string array's bytes are all ASCII, hence UTF-8 (a quicker test).

    Most id, code and name columns are ASCII; the test reads only the array's own bytes.
    """
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return False
    _, offsets, data = array.buffers()
    if data is None or not len(array):
        return True
    width = np.int64 if pa.types.is_large_string(array.type) else np.int32
    bounds = np.frombuffer(offsets, dtype=width)[[array.offset, array.offset + len(array)]]
    values = np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[1]]
    return not values.size or int(values.max()) < 0x80


def _bad_rows(array: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """A mask of the rows holding a string that is not UTF-8, or None when there is none."""
    if _valid(array):
        return None
    if isinstance(array, pa.ChunkedArray):
        masks = [_bad_rows(chunk) for chunk in array.chunks]
        if all(mask is None for mask in masks):
            return None
        return np.concatenate(
            [
                np.zeros(len(chunk), dtype=bool) if mask is None else mask
                for chunk, mask in zip(array.chunks, masks, strict=True)
            ]
        )
    data_type = array.type
    if pa.types.is_dictionary(data_type):
        entries = _bad_rows(array.dictionary)
        if entries is None:
            return None
        codes = pa.array(np.flatnonzero(entries), array.indices.type)
        return pc.is_in(array.indices, codes).fill_null(False).to_numpy(zero_copy_only=False)
    if _is_flat_text(data_type):
        mask = _bisect(array)
        return mask if mask.any() else None
    mask = np.zeros(len(array), dtype=bool)
    if pa.types.is_struct(data_type):
        for child in array.flatten():
            child_mask = _bad_rows(child)
            if child_mask is not None:
                mask |= child_mask
    else:
        values, parents = _list_values(array)
        child_mask = _bad_rows(values)
        if child_mask is not None:
            mask[parents[child_mask]] = True
    return mask if mask.any() else None


def _list_values(array: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The values of a list-like array and, for each, the row holding it."""
    if pa.types.is_map(array.type):
        array = pa.ListArray.from_arrays(array.offsets, array.values)
    values = pc.list_flatten(array)
    parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
    return values, parents


def _bisect(array: pa.Array) -> np.ndarray:
    """Find the bad values of a flat string array: valid halves are cleared in one pass each."""
    mask = np.zeros(len(array), dtype=bool)
    pending = [(0, len(array))]
    while pending:
        start, length = pending.pop()
        part = array.slice(start, length)
        if _valid(part):
            continue
        if length <= _DECODE_BELOW:
            for offset, raw in enumerate(part.cast(pa.large_binary()).to_pylist()):
                if raw is not None and not _decodes(raw):
                    mask[start + offset] = True
            continue
        half = length // 2
        pending += [(start, half), (start + half, length - half)]
    return mask


def _decodes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _repaired(column: pa.Array | pa.ChunkedArray, bad: np.ndarray) -> pa.Array:
    """The column with its bad values readable: decoded lossily, or null inside nested values."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    data_type = column.type
    if pa.types.is_dictionary(data_type):
        dictionary = column.dictionary
        entries = _bad_rows(dictionary)
        if entries is not None:
            dictionary = _lossy(dictionary, entries)
        return pa.DictionaryArray.from_arrays(column.indices, dictionary)
    if _is_flat_text(data_type):
        return _lossy(column, bad)
    # A nested value is shown as null: rebuilding it around repaired strings buys little.
    return pc.if_else(pa.array(bad), pa.nulls(len(column), data_type), column)


def _lossy(array: pa.Array, bad: np.ndarray) -> pa.Array:
    positions = np.flatnonzero(bad)
    raw = array.take(pa.array(positions)).cast(pa.large_binary()).to_pylist()
    replacements: list[str | None] = [None] * len(array)
    for position, value in zip(positions.tolist(), raw, strict=True):
        replacements[position] = value.decode("utf-8", "backslashreplace")
    replacement = pa.array(replacements, array.type)
    return pc.if_else(pa.array(bad), replacement, array)
