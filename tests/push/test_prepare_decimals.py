"""Decimals are sent exactly: their own digits as a JSON number, never through a double."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pyarrow as pa
import pytest

from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.prepare.serializer import ElementSerializer

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


def _values(mapping: dict, column: pa.Array, key: str) -> list[str]:
    """The exact JSON text of attribute ``key`` in each element."""
    batch = pa.record_batch({"cid": [f"user-{i}" for i in range(len(column))], "d": column})
    with ElementSerializer(load_mapping(mapping), now=NOW) as serializer:
        result = serializer.serialize(batch)
    assert len(result.rejected) == 0
    texts = []
    for element in result.elements.to_pylist():
        start = element.index(f'"{key}":') + len(key) + 3
        end = min(i for i in (element.find(",", start), element.find("}", start)) if i >= 0)
        texts.append(element[start:end])
    return texts


USERS = {"entity": "users", "customer_id": "cid", "attributes": {"amount": "d"}}


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("12345678901234567890.123456789", "12345678901234567890.123456789"),
        ("-99999999999999999999.999999999", "-99999999999999999999.999999999"),
        ("12.500000000", "12.5"),
        ("-0.000000001", "-0.000000001"),
        ("100.000000000", "100"),
        ("0E-9", "0"),
        ("0.1", "0.1"),
    ],
)
def test_wide_decimals_are_exact_and_normalized(value, sent):
    column = pa.array([Decimal(value)], pa.decimal128(38, 9))
    assert _values(USERS, column, "amount") == [sent]


def test_a_double_could_not_hold_them():
    # The reason for sending the digits: the nearest double is another number.
    assert repr(float(Decimal("12345678901234567890.123456789"))) != (
        "12345678901234567890.123456789"
    )


@pytest.mark.parametrize(
    ("data_type", "values", "sent"),
    [
        (pa.decimal128(4, 2), ["12.50", "-0.05", "3"], ["12.5", "-0.05", "3"]),
        (pa.decimal128(10, 0), ["1", "-120", "0"], ["1", "-120", "0"]),
        (pa.decimal128(18, 9), ["123456789.123456789", "1"], ["123456789.123456789", "1"]),
        (pa.decimal128(38, 0), ["12345678901234567890123456789012345678"],
         ["12345678901234567890123456789012345678"]),
    ],
)
def test_every_width_and_scale(data_type, values, sent):
    column = pa.array([Decimal(v) for v in values], data_type)
    assert _values(USERS, column, "amount") == sent


def test_declared_number_and_catalog_double_are_exact_too():
    column = pa.array([Decimal("12345678901234567890.120000000")], pa.decimal128(38, 9))
    number = {"entity": "users", "customer_id": "cid",
              "attributes": {"amount": {"column": "d", "type": "number"}}}
    assert _values(number, column, "amount") == ["12345678901234567890.12"]
    catalog = {"entity": "catalog", "catalog": "c", "id_column": "cid", "title_column": "cid",
               "link_column": "cid", "image_link_column": "cid",
               "attributes": {"price": {"column": "d", "type": "double"}, "inferred": "d"}}
    assert _values(catalog, column, "price") == ["12345678901234567890.12"]
    assert _values(catalog, column, "inferred") == ["12345678901234567890.12"]
