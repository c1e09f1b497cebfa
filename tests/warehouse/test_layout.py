"""Declared layouts on both backends: primary keys, indexes, views, tables written before."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from moengage_pipelines.warehouse import (
    TableLayout,
    WarehouseError,
    drop_view,
    ensure_layout,
    primary_key,
    replace_view,
)

SCHEMA = pa.schema([("day", pa.date32()), ("id", pa.string()), ("n", pa.float64())])
LAYOUT = TableLayout("facts", SCHEMA, primary_key=("day", "id"), indexes=(("id",),))
ROWS = pa.Table.from_pylist(
    [{"day": None, "id": "a", "n": 1.0}, {"day": None, "id": "b", "n": 2.0}], schema=SCHEMA
)


def _rows(day):
    return ROWS.set_column(0, "day", pa.array([day, day], pa.date32()))


def test_a_new_table_gets_its_key_and_the_key_is_enforced(warehouse):
    ensure_layout(warehouse, LAYOUT)
    ensure_layout(warehouse, LAYOUT)  # again: nothing changes, nothing fails
    assert primary_key(warehouse, "facts") == ["day", "id"]
    warehouse.replace_rows("facts", _rows(date(2025, 3, 5)), where={"day": date(2025, 3, 5)})
    warehouse.replace_rows("facts", _rows(date(2025, 3, 5)), where={"day": date(2025, 3, 5)})
    assert warehouse.count("facts") == 2
    with pytest.raises(WarehouseError):
        warehouse.append("facts", _rows(date(2025, 3, 5)))
    assert warehouse.count("facts") == 2


def test_an_existing_table_gets_its_columns_and_key_when_its_rows_allow(warehouse):
    warehouse.append("facts", _rows(date(2025, 3, 5)).drop_columns(["n"]))
    assert primary_key(warehouse, "facts") == []
    ensure_layout(warehouse, LAYOUT)
    assert primary_key(warehouse, "facts") == ["day", "id"]
    assert warehouse.columns("facts") == ["day", "id", "n"]


def test_an_existing_table_whose_rows_repeat_a_key_is_named_and_left_alone(warehouse):
    warehouse.append("facts", _rows(date(2025, 3, 5)))
    warehouse.append("facts", _rows(date(2025, 3, 5)))
    with pytest.raises(WarehouseError, match=r"facts has no primary key .* 2 key value\(s\)"):
        ensure_layout(warehouse, LAYOUT)
    assert primary_key(warehouse, "facts") == [] and warehouse.count("facts") == 4


def test_views_are_replaced_and_dropped(warehouse):
    ensure_layout(warehouse, LAYOUT)
    warehouse.append("facts", _rows(date(2025, 3, 5)))
    table = warehouse.table_name("facts").sql
    replace_view(warehouse, "facts_total", f"SELECT day, SUM(n) AS n FROM {table} GROUP BY day")
    replace_view(warehouse, "facts_total", f"SELECT SUM(n) AS n FROM {table}")  # other columns
    assert warehouse.query("SELECT * FROM facts_total").to_pylist() == [{"n": 3.0}]
    drop_view(warehouse, "facts_total")
    drop_view(warehouse, "facts")  # a table of that name is not a view: left alone
    assert not warehouse.table_exists("facts_total") and warehouse.table_exists("facts")


def test_a_layout_naming_a_column_the_schema_lacks_is_refused():
    with pytest.raises(ValueError, match=r"no column\(s\) \['missing'\]"):
        TableLayout("facts", SCHEMA, primary_key=("missing",))
