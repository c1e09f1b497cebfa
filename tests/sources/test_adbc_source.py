"""``ADBCSource`` through the SQLite and PostgreSQL ADBC drivers, on real databases."""

from __future__ import annotations

import datetime as dt
import sqlite3
import sys
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from moengage_pipelines.cli import main
from moengage_pipelines.sources import (
    ADBCSource,
    MissingExtraError,
    SourceError,
    TimeWindow,
    open_source,
)
from moengage_pipelines.warehouse import ColumnNotFoundError, TableNotFoundError
from tests.push.cli_data import EVENTS_MAPPING
from tests.sources.factories import read_all

pytest.importorskip("adbc_driver_manager")
pytest.importorskip("adbc_driver_sqlite")

START = dt.datetime(2025, 5, 1)
# Row i happens START + 7h * i: ids 0..11 span three UTC days. Inserted in a shuffled order.
IDS = [7, 2, 11, 0, 5, 9, 1, 10, 3, 6, 8, 4]

def _moment(i: int) -> dt.datetime:
    return START + dt.timedelta(hours=7 * i)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """A SQLite file: ``numbers`` (5,000 ids) and ``mixed``, whose ``value`` turns to text."""
    path = tmp_path / "source.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE numbers (n INTEGER, label TEXT)")
        connection.executemany("INSERT INTO numbers VALUES (?, ?)",
                               [(n, f"n{n}") for n in reversed(range(5000))])
        connection.execute("CREATE TABLE mixed (id INTEGER, value)")
        connection.executemany("INSERT INTO mixed VALUES (?, ?)",
                               [(i, i if i < 500 else f"text-{i}") for i in range(1000)])
    connection.close()
    return path


def _sqlite_url(path: Path, driver_batch_rows: int = 300) -> str:
    return f"adbc+sqlite://{path}?adbc.sqlite.query.batch_rows={driver_batch_rows}"


def test_sqlite_streams_ordered_batches_of_at_most_batch_rows(sqlite_file: Path) -> None:
    source = ADBCSource(_sqlite_url(sqlite_file, 1_000), table="numbers", order_by="n")
    batches = list(source.iter_batches(batch_rows=700))
    assert len(batches) > 5000 // 1_000
    assert max(batch.num_rows for batch in batches) <= 700
    table = pa.Table.from_batches(batches)
    assert table.column("n").to_pylist() == list(range(5000))
    assert table.column("label").to_pylist()[:2] == ["n0", "n1"]
    assert source.schema(["label"]) == pa.schema([("label", pa.string())])


def test_sqlite_schema_change_mid_stream_is_an_error(sqlite_file: Path) -> None:
    source = ADBCSource(_sqlite_url(sqlite_file), table="mixed", order_by="id")
    with pytest.raises(SourceError, match="schema of table 'mixed' changed mid-stream"):
        read_all(source)


def test_sqlite_bad_relation_and_time_column(sqlite_file: Path) -> None:
    url = _sqlite_url(sqlite_file)
    with pytest.raises(TableNotFoundError, match="'absent'"):
        read_all(ADBCSource(url, table="absent"))
    window = TimeWindow.for_day("2025-05-01")
    # SQLite has no timestamp type: a window needs one, so it is refused, naming the column.
    with pytest.raises(SourceError, match=r"'label' .* has type string; a time window needs"):
        read_all(ADBCSource(url, table="numbers", time_column="label"), window=window)
    with pytest.raises(ColumnNotFoundError, match="'nope' not found"):
        read_all(ADBCSource(url, table="numbers", order_by="nope"))
    with pytest.raises(SourceError, match="not a table name"):
        ADBCSource(url, table="numbers; DROP TABLE numbers")


def test_sqlite_query_returning_no_rows(sqlite_file: Path) -> None:
    source = ADBCSource(_sqlite_url(sqlite_file), sql="SELECT n FROM numbers WHERE n < 0")
    assert list(source.iter_batches()) == []


def test_credential_options_never_show(sqlite_file: Path) -> None:
    url = _sqlite_url(sqlite_file) + "&adbc.example.auth_token=tok-s3cret"
    source = ADBCSource(url, table="numbers")
    # SQLite refuses the unknown option, quoting its value: the message must not carry it.
    with pytest.raises(SourceError, match="Unknown database option") as caught:
        read_all(source)
    for text in (source.describe(), repr(source), str(caught.value)):
        assert "tok-s3cret" not in text and "adbc.example.auth_token=***" in text


def test_open_source_dispatches_adbc_before_the_db_suffix(sqlite_file: Path) -> None:
    source = open_source(_sqlite_url(sqlite_file), table="numbers")
    assert isinstance(source, ADBCSource) and source.driver == "sqlite"


def test_missing_driver_and_missing_extra(sqlite_file: Path, monkeypatch) -> None:
    with pytest.raises(SourceError, match="pip install adbc-driver-nosuch"):
        read_all(ADBCSource("adbc+nosuch://host/db", table="t"))
    monkeypatch.setitem(sys.modules, "adbc_driver_manager", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "adbc_driver_manager.dbapi", None)
    with pytest.raises(MissingExtraError, match=r"moengage-pipelines\[adbc\]"):
        read_all(ADBCSource(_sqlite_url(sqlite_file), table="numbers"))


# -- PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def pg_events(postgres_dsn: str, pg_schema: str) -> str:
    """Table ``<schema>.events`` with a timestamp, a timestamptz and a date per row."""
    pytest.importorskip("adbc_driver_postgresql")
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{pg_schema}"')
        connection.execute(
            f'CREATE TABLE "{pg_schema}".events (id bigint, uid text, at timestamp, '
            "at_tz timestamptz, day date, price numeric(10, 2), props jsonb)"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{pg_schema}".events VALUES (%s, %s, %s, %s, %s, %s, %s)',
                [(i, f"user-{i}", _moment(i), _moment(i).replace(tzinfo=dt.UTC),
                  _moment(i).date(), i + 0.25, f'{{"n": {i}}}') for i in IDS],
            )
    return f"{pg_schema}.events"


def _pg_url(postgres_dsn: str, password: str | None = None) -> str:
    url = "adbc+" + postgres_dsn
    return url.replace("postgres@", f"postgres:{password}@") if password else url


@pytest.mark.postgres
@pytest.mark.parametrize("time_column", ["at", "at_tz", "day"])
def test_postgres_window_is_pushed_down_in_order(postgres_dsn, pg_events, time_column) -> None:
    window = TimeWindow.for_day("2025-05-02")
    source = ADBCSource(_pg_url(postgres_dsn), table=pg_events, time_column=time_column,
                        order_by="id")
    table = read_all(source, window=window, batch_rows=2)
    moments = {i: dt.datetime.combine(_moment(i).date(), dt.time()) if time_column == "day"
               else _moment(i) for i in IDS}
    expected = [i for i in sorted(IDS) if window.contains(moments[i])]
    assert expected and len(expected) < len(IDS)
    assert table.column("id").to_pylist() == expected


@pytest.mark.postgres
def test_postgres_types_arrive_without_extension_types(postgres_dsn, pg_events) -> None:
    schema = ADBCSource(_pg_url(postgres_dsn), table=pg_events).schema()
    assert schema.field("at").type == pa.timestamp("us")
    assert schema.field("at_tz").type == pa.timestamp("us", "UTC")
    assert schema.field("day").type == pa.date32()
    # NUMERIC and JSONB come as the driver's text storage, not as extension types.
    assert schema.field("price").type == pa.string()
    assert schema.field("props").type == pa.string()
    table = read_all(ADBCSource(_pg_url(postgres_dsn), table=pg_events, order_by="id"))
    assert table.schema == schema
    assert table.column("price").to_pylist()[:2] == ["0.25", "1.25"]


@pytest.mark.postgres
def test_postgres_errors_hide_the_password(postgres_dsn, pg_events) -> None:
    password = "adbc-s3cret"
    with pytest.raises(TableNotFoundError) as missing:
        read_all(ADBCSource(_pg_url(postgres_dsn, password), table=pg_events + "_absent"))
    closed = _pg_url(postgres_dsn, password).replace(":5432/", ":1/")
    with pytest.raises(SourceError, match="cannot connect to") as unreachable:
        read_all(ADBCSource(closed, table=pg_events))
    source = ADBCSource(_pg_url(postgres_dsn, password), table=pg_events)
    for text in (str(missing.value), str(unreachable.value), source.describe(), repr(source)):
        assert password not in text


@pytest.mark.postgres
def test_cli_dry_run_reads_the_window(postgres_dsn, pg_events, tmp_path, capsys) -> None:
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    code = main(["push", "events", "--source", _pg_url(postgres_dsn), "--table", pg_events,
                 "--mapping", str(mapping), "--dry-run", "--time-column", "at_tz",
                 "--day", "2025-05-02"])
    out = capsys.readouterr().out
    in_window = sum(1 for i in IDS if _moment(i).date() == dt.date(2025, 5, 2))
    assert code == 0
    assert f"rows read:     {in_window}" in out
    assert f"events packed (dry run): {in_window}" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--table", "absent"], "table 'absent' does not exist"),
        (["--table", "mixed"], "schema of table 'mixed' changed mid-stream"),
        (["--table", "numbers", "--time-column", "label", "--day", "2025-05-01"],
         "has type string; a time window needs"),
    ],
)
def test_cli_bad_input_is_one_error_line(sqlite_file, tmp_path, capsys, arguments, message):
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    code = main(["push", "events", "--source", _sqlite_url(sqlite_file), "--mapping",
                 str(mapping), "--dry-run", *arguments])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err and "Traceback" not in err


def test_cli_unreachable_database_is_one_error_line(tmp_path, capsys) -> None:
    pytest.importorskip("adbc_driver_postgresql")
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    url = "adbc+postgresql://loader:adbc-s3cret@127.0.0.1:1/test"
    code = main(["push", "events", "--source", url, "--table", "events", "--mapping",
                 str(mapping), "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: cannot connect to adbc+postgresql://loader:***@127.0.0.1:1/")
    assert err.count("\n") == 1 and "adbc-s3cret" not in err


@pytest.mark.postgres
def test_postgres_refused_login_is_named(postgres_dsn: str) -> None:
    pytest.importorskip("adbc_driver_postgresql")
    url = "adbc+" + postgres_dsn.replace("postgres@", "no_such_login_role:adbc-s3cret@")
    with pytest.raises(SourceError, match=r"cannot connect to .*no_such_login_role") as caught:
        read_all(ADBCSource(url, table="events"))
    assert "adbc-s3cret" not in str(caught.value)
