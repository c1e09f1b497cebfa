from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pyarrow as pa
import pytest

from moengage_pipelines.push.dead_letters import DEAD_LETTER_SCHEMA, DeadLetter, DeadLetterWriter
from moengage_pipelines.warehouse import Warehouse, WarehouseError


def letter(i: int, *, sync: str = "users", partition: str | None = "2025-01-02") -> DeadLetter:
    return DeadLetter(
        sync_name=sync,
        partition=partition,
        row_key=f"c{i}",
        rule="banned_customer_id",
        column="customer_id",
        message=f"row {i}: customer_id is banned",
        row=DeadLetter.row_to_json({"customer_id": f"c{i}", "at": dt.date(2025, 1, 2)}),
        row_number=i,
    )


def test_write_appends_and_counts(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse)
    assert writer.count() == 0  # no table yet
    assert writer.write([letter(0), letter(1)]) == 2
    assert writer.write([letter(2, partition="2025-01-03")]) == 1
    assert writer.count() == 3
    assert writer.count(sync_name="users", partition="2025-01-02") == 2
    assert writer.count(partition="2025-01-03") == 1
    assert writer.count(sync_name="events") == 0
    assert warehouse.table_exists("moengage_dead_letters")


def test_stored_letter_round_trips(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse, table="rejects")
    writer.write([letter(7)])
    row = writer.read().to_pylist()[0]
    assert row["sync_name"] == "users"
    assert row["partition"] == "2025-01-02"
    assert row["row_key"] == "c7"
    assert row["row_number"] == 7
    assert row["rule"] == "banned_customer_id"
    assert row["column"] == "customer_id"
    assert json.loads(row["row"]) == {"customer_id": "c7", "at": "2025-01-02"}
    assert row["recorded_at"].tzinfo is not None
    assert abs(row["recorded_at"] - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_replace_partition_replaces_instead_of_duplicating(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse)
    writer.replace_partition("users", "2025-01-01", [letter(0, partition="2025-01-01")])
    writer.replace_partition("users", "2025-01-02", [letter(i) for i in range(5)])
    writer.replace_partition("events", "2025-01-02", [letter(9, sync="events")])
    # Re-run of users/2025-01-02 with fewer rejects.
    writer.replace_partition("users", "2025-01-02", [letter(i) for i in range(2)])
    writer.replace_partition("users", "2025-01-02", [letter(i) for i in range(2)])
    assert writer.count("users", "2025-01-02") == 2
    assert writer.count("users", "2025-01-01") == 1
    assert writer.count("events", "2025-01-02") == 1
    # A clean re-run leaves no letters for the partition.
    writer.replace_partition("users", "2025-01-02", [])
    assert writer.count("users", "2025-01-02") == 0
    assert writer.count() == 2


def test_unpartitioned_runs(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse)
    writer.replace_partition("users", "2025-01-02", [letter(0)])
    writer.replace_partition("users", None, [letter(1, partition=None), letter(2, partition=None)])
    writer.replace_partition("users", None, [letter(3, partition=None)])
    assert writer.count_unpartitioned("users") == 1
    assert writer.count("users") == 2


def test_clear_partition_then_stream(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse)
    writer.write([letter(i) for i in range(3)])
    writer.clear_partition("users", "2025-01-02")  # start of a re-run
    writer.write([letter(10)])
    writer.write([letter(11)])
    assert writer.count("users", "2025-01-02") == 2
    writer.clear_partition("never-written", None)  # harmless on an empty partition


def test_letters_must_belong_to_the_replaced_partition(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse)
    writer.replace_partition("users", "2025-01-02", [letter(0)])
    with pytest.raises(WarehouseError, match="partition"):
        writer.replace_partition("users", "2025-01-02", [letter(1, partition="2025-01-03")])
    assert writer.count("users", "2025-01-02") == 1  # unchanged


def test_arrow_input_is_conformed(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse)
    minimal = pa.table(
        {"rule": ["invalid_type", "invalid_type"], "message": ["bad", "worse"], "row_key": [1, 2]}
    )
    assert writer.replace_partition("catalog", "p1", minimal) == 2
    table = writer.read(sync_name="catalog")
    assert table.column("row_key").to_pylist() == ["1", "2"]
    assert table.column("partition").to_pylist() == ["p1", "p1"]
    assert set(table.column_names) == set(DEAD_LETTER_SCHEMA.names)
    with pytest.raises(WarehouseError, match="'sync_name'"):
        writer.write(minimal)
    with pytest.raises(WarehouseError, match="unknown column"):
        writer.write(minimal.append_column("colour", pa.array(["red", "blue"])))


def test_duck_typed_letters_and_mappings(warehouse: Warehouse) -> None:
    # Any object with the same attributes works (row_number and recorded_at are optional).
    other = SimpleNamespace(
        sync_name="users",
        partition=None,
        row_key=None,
        rule="missing_customer_id",
        column="customer_id",
        message="customer_id is null",
        row="{}",
    )
    as_dict = {"sync_name": "users", "rule": "row_too_large", "message": "too big"}
    assert DeadLetterWriter(warehouse).write([other, as_dict]) == 2
    with pytest.raises(WarehouseError, match="lacks rule"):
        DeadLetterWriter(warehouse).write([{"sync_name": "users", "message": "x"}])


def test_large_volumes_are_written_in_chunks(warehouse: Warehouse) -> None:
    writer = DeadLetterWriter(warehouse, chunk_rows=1_000)
    letters = (letter(i) for i in range(12_345))  # a generator: never held as one list
    assert writer.replace_partition("users", "2025-01-02", letters) == 12_345
    assert writer.count("users", "2025-01-02") == 12_345


@pytest.mark.postgres
def test_repr_has_no_secrets(postgres_dsn: str, pg_schema: str) -> None:
    url = postgres_dsn.replace("postgres@", "postgres:topsecret@") + f"?schema={pg_schema}"
    with Warehouse.open(url) as warehouse:
        assert "topsecret" not in repr(DeadLetterWriter(warehouse))
