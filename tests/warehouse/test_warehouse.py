from __future__ import annotations

import datetime as dt
import decimal
import threading

import pyarrow as pa
import pytest

from moengage_pipelines.warehouse import (
    ColumnNotFoundError,
    TableNotFoundError,
    Warehouse,
    WarehouseError,
)

UTC = dt.UTC


def day_rows(day: str, n: int, start: int = 0) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(start, start + n), pa.int64()),
            "name": [f"user-{i}" for i in range(start, start + n)],
            "partition_date": [day] * n,
        }
    )


def test_query_with_positional_parameters(warehouse: Warehouse) -> None:
    result = warehouse.query("SELECT CAST($1 AS BIGINT) + 1 AS x, $2 AS label", [41, "a%b"])
    assert result.to_pylist() == [{"x": 42, "label": "a%b"}]


def test_literal_percent_needs_no_escaping(warehouse: Warehouse) -> None:
    assert warehouse.query("SELECT 'a%' LIKE 'a%' AS ok").column("ok").to_pylist() == [True]


def test_replace_rows_creates_table_and_is_idempotent(warehouse: Warehouse) -> None:
    assert not warehouse.table_exists("users")
    assert (
        warehouse.replace_rows("users", day_rows("2025-01-02", 3), {"partition_date": "2025-01-02"})
        == 3
    )
    assert warehouse.table_exists("users")
    # Re-running the partition replaces it, with the new content.
    warehouse.replace_rows(
        "users", day_rows("2025-01-02", 2, start=10), {"partition_date": "2025-01-02"}
    )
    warehouse.replace_rows(
        "users", day_rows("2025-01-02", 2, start=10), {"partition_date": "2025-01-02"}
    )
    ids = warehouse.query("SELECT id FROM users ORDER BY id").column("id").to_pylist()
    assert ids == [10, 11]


def test_replace_rows_leaves_other_partitions_alone(warehouse: Warehouse) -> None:
    warehouse.replace_rows("users", day_rows("2025-01-01", 2), {"partition_date": "2025-01-01"})
    warehouse.replace_rows("users", day_rows("2025-01-02", 3), {"partition_date": "2025-01-02"})
    warehouse.replace_rows("users", day_rows("2025-01-02", 1), {"partition_date": "2025-01-02"})
    assert warehouse.count("users", {"partition_date": "2025-01-01"}) == 2
    assert warehouse.count("users", {"partition_date": "2025-01-02"}) == 1
    assert warehouse.count("users") == 3


def test_replace_rows_fills_a_missing_partition_column(warehouse: Warehouse) -> None:
    data = pa.table({"id": [1, 2]})
    warehouse.replace_rows("t", data, {"partition_date": "2025-01-05", "sync": "users"})
    warehouse.replace_rows("t", data, {"partition_date": "2025-01-05", "sync": "users"})
    rows = warehouse.query("SELECT * FROM t ORDER BY id").to_pylist()
    assert rows == [
        {"id": 1, "partition_date": "2025-01-05", "sync": "users"},
        {"id": 2, "partition_date": "2025-01-05", "sync": "users"},
    ]


def test_replace_rows_rejects_rows_of_another_partition(warehouse: Warehouse) -> None:
    data = pa.table({"id": [1, 2], "partition_date": ["2025-01-02", "2025-01-03"]})
    with pytest.raises(WarehouseError, match="partition_date='2025-01-03'"):
        warehouse.replace_rows("t", data, {"partition_date": "2025-01-02"})
    assert not warehouse.table_exists("t")  # nothing was written


def test_replace_rows_with_null_partition(warehouse: Warehouse) -> None:
    warehouse.replace_rows("t", pa.table({"id": [1], "p": ["a"]}), {"p": "a"})
    warehouse.replace_rows("t", pa.table({"id": [2, 3]}), {"p": None})
    warehouse.replace_rows("t", pa.table({"id": [4]}), {"p": None})
    assert warehouse.count("t", {"p": None}) == 1
    assert warehouse.count("t", {"p": "a"}) == 1


def test_replace_rows_without_where_replaces_the_table(warehouse: Warehouse) -> None:
    warehouse.replace_rows("t", pa.table({"id": [1, 2, 3]}))
    warehouse.replace_rows("t", pa.table({"id": [9]}))
    assert warehouse.query("SELECT id FROM t").to_pylist() == [{"id": 9}]


def test_failed_write_rolls_back_the_delete(warehouse: Warehouse) -> None:
    warehouse.replace_rows("t", pa.table({"id": [1, 2], "p": ["x", "x"]}), {"p": "x"})

    def batches():
        yield pa.record_batch({"id": [7], "p": ["x"]})
        raise RuntimeError("source broke mid-write")

    with pytest.raises(RuntimeError, match="mid-write"):
        warehouse.replace_rows("t", batches(), {"p": "x"})
    # The old partition is intact: delete and insert were one transaction.
    assert sorted(warehouse.query("SELECT id FROM t").column("id").to_pylist()) == [1, 2]


def test_type_error_rolls_back_and_names_the_table(warehouse: Warehouse) -> None:
    warehouse.replace_rows("t", pa.table({"id": [1], "p": ["x"]}), {"p": "x"})
    with pytest.raises(WarehouseError, match=r"writing '(\w+\.)?t'"):
        warehouse.replace_rows("t", pa.table({"id": ["not a number"], "p": ["x"]}), {"p": "x"})
    assert warehouse.query("SELECT id FROM t").to_pylist() == [{"id": 1}]


def test_append_and_new_columns(warehouse: Warehouse) -> None:
    assert warehouse.append("events", pa.table({"id": [1]})) == 1
    assert warehouse.append("events", pa.table({"id": [2], "extra": ["x"]})) == 1
    assert warehouse.columns("events") == ["id", "extra"]
    rows = warehouse.query("SELECT * FROM events ORDER BY id").to_pylist()
    assert rows == [{"id": 1, "extra": None}, {"id": 2, "extra": "x"}]


def test_append_accepts_a_stream_of_batches(warehouse: Warehouse) -> None:
    batches = (pa.record_batch({"id": list(range(i * 100, i * 100 + 100))}) for i in range(5))
    assert warehouse.append("t", batches) == 500
    assert warehouse.count("t") == 500


def test_empty_replace_creates_table_and_clears_partition(warehouse: Warehouse) -> None:
    schema = pa.schema([("id", pa.int64()), ("p", pa.string())])
    warehouse.replace_rows("t", schema.empty_table(), {"p": "x"})
    assert warehouse.table_exists("t")
    warehouse.append("t", pa.table({"id": [1], "p": ["x"]}, schema=schema))
    warehouse.replace_rows("t", schema.empty_table(), {"p": "x"})
    assert warehouse.count("t") == 0


def test_read_batches_respects_batch_rows(warehouse: Warehouse) -> None:
    warehouse.append("t", pa.table({"id": pa.array(range(10_000), pa.int64())}))
    batches = list(warehouse.read_batches("SELECT id FROM t ORDER BY id", batch_rows=1_000))
    assert max(b.num_rows for b in batches) <= 1_000
    assert len(batches) >= 10
    assert sum(b.num_rows for b in batches) == 10_000
    assert pa.Table.from_batches(batches).column("id").to_pylist() == list(range(10_000))


def test_read_batches_with_parameters_and_no_rows(warehouse: Warehouse) -> None:
    warehouse.append("t", pa.table({"id": [1, 2, 3]}))
    rows = [
        b.to_pylist() for b in warehouse.read_batches("SELECT id FROM t WHERE id >= $1", 10, [2])
    ]
    assert sorted(r["id"] for batch in rows for r in batch) == [2, 3]
    assert list(warehouse.read_batches("SELECT id FROM t WHERE id > $1", 10, [99])) == []


def test_writes_while_streaming(warehouse: Warehouse) -> None:
    warehouse.append("src", pa.table({"id": pa.array(range(5_000), pa.int64())}))
    seen = 0
    for batch in warehouse.read_batches("SELECT id FROM src", batch_rows=500):
        seen += batch.num_rows
        warehouse.append("sink", batch)  # the stream must not block writes
    assert seen == 5_000
    assert warehouse.count("sink") == 5_000


def test_missing_table_and_column_errors(warehouse: Warehouse) -> None:
    with pytest.raises(TableNotFoundError, match=r"'(\w+\.)?nope'"):
        warehouse.table_schema("nope")
    warehouse.append("t", pa.table({"id": [1]}))
    with pytest.raises(ColumnNotFoundError, match=r"'partition_date'.*'(\w+\.)?t'.*id"):
        warehouse.count("t", {"partition_date": "2025-01-01"})
    assert warehouse.count("absent") == 0
    assert warehouse.columns("absent") == []


def test_bad_sql_raises_warehouse_error(warehouse: Warehouse) -> None:
    with pytest.raises(WarehouseError):
        warehouse.query("SELEKT 1")
    with pytest.raises(WarehouseError):
        list(warehouse.read_batches("SELECT * FROM missing_table", 10))


def test_identifiers_are_quoted(warehouse: Warehouse) -> None:
    odd = 'we"ird table'
    data = pa.table({"column": [1], "row": ["r"], 'qu"ote': [True]})
    warehouse.replace_rows(odd, data, {"select": "x"})
    assert warehouse.table_exists(odd)
    assert warehouse.columns(odd) == ["column", "row", 'qu"ote', "select"]
    assert warehouse.count(odd, {"select": "x"}) == 1


def test_schema_qualified_tables(warehouse: Warehouse) -> None:
    warehouse.append("results_schema.t", pa.table({"id": [1, 2]}))
    assert warehouse.table_exists("results_schema.t")
    assert not warehouse.table_exists("t")
    assert warehouse.count("results_schema.t") == 2
    if warehouse.kind == "postgres":
        warehouse.drop_table("results_schema.t")
        warehouse.execute('DROP SCHEMA "results_schema"')


def test_types_round_trip(warehouse: Warehouse) -> None:
    aware = dt.datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    data = pa.table(
        {
            "b": pa.array([True, None]),
            "i32": pa.array([1, None], pa.int32()),
            "i64": pa.array([2**62, None], pa.int64()),
            "f": pa.array([1.5, float("inf")]),
            "dec": pa.array([decimal.Decimal("12.34"), None], pa.decimal128(10, 2)),
            "s": pa.array(["", None]),  # empty string and NULL stay distinct
            "quoted": pa.array(['a "quoted", multi\nline', "\\backslash"]),
            "d": pa.array([dt.date(2025, 1, 2), None]),
            "ts": pa.array([aware.replace(tzinfo=None), None], pa.timestamp("us")),
            "tstz": pa.array([aware, None], pa.timestamp("us", tz="UTC")),
            "tags": pa.array([["x", 'y"z', None], None], pa.list_(pa.string())),
            "nums": pa.array([[1, 2], []], pa.list_(pa.int64())),
            "bin": pa.array([b"\x00\xff", None]),
        }
    )
    warehouse.append("typed", data)
    back = warehouse.query("SELECT * FROM typed").sort_by([("i32", "descending")])
    assert back.schema.field("tstz").type == pa.timestamp("us", tz="UTC")
    assert back.schema.field("ts").type == pa.timestamp("us")
    assert back.schema.field("d").type == pa.date32()
    assert back.schema.field("dec").type == pa.decimal128(10, 2)
    expected = data.to_pylist()
    actual = back.to_pylist()
    for want, got in zip(expected, actual, strict=True):
        assert got == want


def test_timestamptz_from_other_zone_is_the_same_instant(warehouse: Warehouse) -> None:
    kolkata = pa.array(
        [dt.datetime(2025, 1, 1, 0, 0, tzinfo=UTC)], pa.timestamp("us", tz="Asia/Kolkata")
    )
    warehouse.append("t", pa.table({"at": kolkata}))
    got = warehouse.query('SELECT "at" FROM t').column("at")[0].as_py()
    assert got == dt.datetime(2025, 1, 1, tzinfo=UTC)


def test_large_write_streams_in_chunks(warehouse: Warehouse) -> None:
    n = 300_000
    data = pa.table(
        {"id": pa.array(range(n), pa.int64()), "s": pa.array([str(i) for i in range(n)])}
    )
    assert warehouse.replace_rows("big", data, {"p": "x"}) == n
    assert warehouse.count("big", {"p": "x"}) == n
    total = warehouse.query("SELECT sum(id) AS total FROM big").column("total")[0].as_py()
    assert int(total) == n * (n - 1) // 2


def test_context_manager_closes(warehouse_url: str) -> None:
    with Warehouse.open(warehouse_url) as warehouse:
        warehouse.append("t", pa.table({"id": [1]}))
    with pytest.raises(WarehouseError):
        warehouse.query("SELECT 1")
    warehouse.close()  # idempotent


def test_concurrent_writers_from_threads(warehouse: Warehouse) -> None:
    errors: list[BaseException] = []

    def write(part: int) -> None:
        try:
            for _ in range(3):
                warehouse.replace_rows("t", pa.table({"id": [part] * 10}), {"p": str(part)})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert warehouse.count("t") == 40


def test_duckdb_read_only(tmp_path) -> None:
    path = tmp_path / "ro.duckdb"
    with Warehouse.open(f"duckdb://{path}") as writer:
        writer.append("t", pa.table({"id": [1]}))
    with Warehouse.open(f"duckdb://{path}", read_only=True) as reader:
        assert reader.count("t") == 1
        with pytest.raises(WarehouseError, match="read-only"):
            reader.append("t", pa.table({"id": [2]}))
    with pytest.raises(WarehouseError, match="does not exist"):
        Warehouse.open(f"duckdb://{tmp_path / 'missing.duckdb'}", read_only=True)


def test_duckdb_memory() -> None:
    with Warehouse.open("duckdb:///:memory:") as warehouse:
        warehouse.append("t", pa.table({"id": [1, 2]}))
        assert warehouse.count("t") == 2


def test_where_with_date_values(warehouse: Warehouse) -> None:
    day = dt.date(2025, 1, 2)
    data = pa.table({"campaign_id": ["a", "b"], "date": pa.array([day, day])})
    warehouse.replace_rows("stats", data, {"date": day})
    warehouse.replace_rows("stats", data.slice(0, 1), {"date": day})
    warehouse.replace_rows("stats", pa.table({"campaign_id": ["z"]}), {"date": dt.date(2025, 1, 3)})
    assert warehouse.count("stats", {"date": day}) == 1
    assert warehouse.table_schema("stats").field("date").type == pa.date32()
    with pytest.raises(WarehouseError, match="date="):
        warehouse.replace_rows("stats", data, {"date": dt.date(2025, 1, 9)})


def test_duckdb_default_schema(tmp_path) -> None:
    url = f"duckdb://{tmp_path / 'db.duckdb'}"
    with Warehouse.open(url, schema="analytics") as warehouse:
        warehouse.append("t", pa.table({"id": [1]}))
        warehouse.execute("CREATE TABLE raw_ddl (x INTEGER)")  # unqualified DDL lands there too
        assert warehouse.count("t") == 1
        assert warehouse.describe().endswith("db.duckdb (schema analytics)")
    with Warehouse.open(url) as plain:
        assert plain.table_exists("analytics.t")
        assert plain.table_exists("analytics.raw_ddl")
        assert not plain.table_exists("t")
