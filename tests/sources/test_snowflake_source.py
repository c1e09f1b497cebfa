"""``SnowflakeSource`` against fakesnow's server, through the real Snowflake connector."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import sys
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pytest

from moengage_pipelines.cli import main
from moengage_pipelines.sources import (
    MissingExtraError,
    SnowflakeSource,
    SourceError,
    TimeWindow,
    open_source,
)
from moengage_pipelines.sources.snowflake_settings import SnowflakeSettings
from moengage_pipelines.warehouse import ColumnNotFoundError, TableNotFoundError
from tests.sources.factories import read_all
from tests.sources.snowflake_fake import (
    PASSWORD,
    FakeSnowflake,
    RefusingSnowflake,
    fake_snowflake,
    fakesnow_port,
    refusing_snowflake,
)

__all__ = ["fake_snowflake", "fakesnow_port", "refusing_snowflake"]

# fakesnow's server copies each result once more than Snowflake would; not the source's doing.
pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

START = dt.datetime(2025, 5, 1)
# Row i happens START + 7h * i: ids 0..11 span three UTC days. Inserted in a shuffled order.
IDS = [7, 2, 11, 0, 5, 9, 1, 10, 3, 6, 8, 4]


def _moment(i: int) -> dt.datetime:
    return START + dt.timedelta(hours=7 * i)


@pytest.fixture
def events(fake_snowflake: FakeSnowflake) -> FakeSnowflake:
    """Table EVENTS with one column of each mapped Snowflake type."""
    fake_snowflake.run(
        "CREATE TABLE events (id NUMBER(38,0), amount NUMBER(10,2), price DECIMAL(20,4), "
        "ratio FLOAT, uid VARCHAR, ntz TIMESTAMP_NTZ, ltz TIMESTAMP_LTZ, tz TIMESTAMP_TZ, "
        "day DATE, props VARIANT, tags ARRAY)",
        *(
            f"INSERT INTO events SELECT {i}, {i}.25, {i}.5, {i / 4}, 'user-{i}', "
            f"'{_moment(i)}'::TIMESTAMP_NTZ, '{_moment(i)}+00:00'::TIMESTAMP_LTZ, "
            # The same instant written in +02:00: the source must compare instants.
            f"'{_moment(i) + dt.timedelta(hours=2)}+02:00'::TIMESTAMP_TZ, "
            f"'{_moment(i).date()}'::DATE, PARSE_JSON('{{\"n\": {i}}}'), "
            f"ARRAY_CONSTRUCT('t{i}', {i})"
            for i in IDS
        ),
    )
    return fake_snowflake


def test_types_map_to_arrow(events: FakeSnowflake) -> None:
    source = SnowflakeSource(events.url(), table="events")
    expected = pa.schema([
        ("ID", pa.int64()), ("AMOUNT", pa.decimal128(10, 2)), ("PRICE", pa.decimal128(20, 4)),
        ("RATIO", pa.float64()), ("UID", pa.string()), ("NTZ", pa.timestamp("ns")),
        ("LTZ", pa.timestamp("ns", "UTC")), ("TZ", pa.timestamp("ns", "UTC")),
        ("DAY", pa.date32()), ("PROPS", pa.string()), ("TAGS", pa.string()),
    ])
    assert source.schema() == expected
    table = read_all(SnowflakeSource(events.url(), table="events", order_by="id"))
    assert table.schema == expected  # the batches are cast to the described schema
    row = table.slice(3, 1).to_pylist()[0]
    assert row["ID"] == 3
    assert row["AMOUNT"] == decimal.Decimal("3.25")
    assert row["PRICE"] == decimal.Decimal("3.5000")
    assert row["NTZ"] == _moment(3)
    assert row["TZ"] == row["LTZ"] == _moment(3).replace(tzinfo=dt.UTC)
    assert json.loads(row["PROPS"]) == {"n": 3}
    assert json.loads(row["TAGS"]) == ["t3", 3]


@pytest.mark.parametrize("time_column", ["ntz", "ltz", "tz", "day"])
def test_window_is_pushed_down_and_rows_are_ordered(
    events: FakeSnowflake, time_column: str
) -> None:
    window = TimeWindow.for_day("2025-05-02")
    source = SnowflakeSource(events.url(), table="events", time_column=time_column,
                             order_by="id")
    ids = read_all(source, window=window).column("ID").to_pylist()
    expected = [i for i in sorted(IDS) if window.contains(
        dt.datetime.combine(_moment(i).date(), dt.time()) if time_column == "day" else _moment(i)
    )]
    assert expected and len(expected) < len(IDS)
    assert ids == expected


def test_batches_hold_at_most_batch_rows(fake_snowflake: FakeSnowflake) -> None:
    fake_snowflake.run(
        "CREATE TABLE numbers AS SELECT seq4() AS n FROM TABLE(GENERATOR(ROWCOUNT => 5000))"
    )
    source = SnowflakeSource(fake_snowflake.url(), sql="SELECT n FROM numbers", order_by="n")
    batches = list(source.iter_batches(batch_rows=700))
    assert max(batch.num_rows for batch in batches) <= 700
    assert pa.Table.from_batches(batches).column("N").to_pylist() == list(range(5000))


def test_lower_case_names_find_upper_case_columns(events: FakeSnowflake) -> None:
    source = SnowflakeSource(events.url(), sql="SELECT * FROM events WHERE uid LIKE 'user-1%'",
                             order_by="id")
    table = read_all(source, columns=["id", "uid"])
    assert table.column_names == ["id", "uid"]
    assert table.column("id").to_pylist() == [1, 10, 11]


def test_open_source_builds_it_from_the_url(events: FakeSnowflake) -> None:
    source = open_source(events.url(), table="events", time_column="ntz")
    assert isinstance(source, SnowflakeSource)
    assert source.settings.warehouse is None and source.settings.database == events.database
    with pytest.raises(SourceError, match="exactly one of table= or sql="):
        open_source(events.url())


def test_settings_come_from_snowflake_variables(events: FakeSnowflake, monkeypatch) -> None:
    monkeypatch.setenv("SNOWFLAKE_ACCOUNT", "fakeaccount")
    monkeypatch.setenv("SNOWFLAKE_USER", "loader")
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", PASSWORD)
    monkeypatch.setenv("SNOWFLAKE_DATABASE", events.database)
    monkeypatch.setenv("SNOWFLAKE_SCHEMA", events.schema)
    monkeypatch.setenv("SNOWFLAKE_WAREHOUSE", "LOAD_WH")
    monkeypatch.setenv("SNOWFLAKE_ROLE", "LOADER")
    url = f"snowflake://?host=127.0.0.1&port={events.port}&protocol=http"
    source = SnowflakeSource(url, table="events")
    assert source.settings.warehouse == "LOAD_WH" and source.settings.role == "LOADER"
    assert read_all(source).num_rows == len(IDS)
    assert "snowflake://loader@fakeaccount/" in source.describe()
    assert "warehouse=LOAD_WH&role=LOADER" in source.describe()
    for text in (source.describe(), repr(source), repr(source.settings)):
        assert PASSWORD not in text


def _write_key(tmp_path, passphrase: bytes | None) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    path = tmp_path / "rsa_key.p8"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8, encryption))
    return str(path)


def test_key_pair_auth_with_an_encrypted_key(events, tmp_path, monkeypatch) -> None:
    passphrase = "key-Passphrase-9"
    path = _write_key(tmp_path, passphrase.encode())
    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", passphrase)
    source = SnowflakeSource(events.url(password=None, private_key_path=path), table="events")
    assert source.settings.auth == "key-pair"
    assert source.settings.connect_arguments()["private_key"][:1] == b"\x30"  # DER
    assert read_all(source).num_rows == len(IDS)
    assert passphrase not in repr(source.settings) and passphrase not in source.describe()

    monkeypatch.setenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", "wrong-" + passphrase)
    with pytest.raises(SourceError, match="cannot load the Snowflake private key") as caught:
        read_all(SnowflakeSource(events.url(password=None, private_key_path=path),
                                 table="events"))
    assert passphrase not in str(caught.value)


def test_credentials_missing(monkeypatch) -> None:
    for name in ("PASSWORD", "PRIVATE_KEY_PATH", "ACCOUNT", "USER"):
        monkeypatch.delenv(f"SNOWFLAKE_{name}", raising=False)
    with pytest.raises(SourceError, match=r"SNOWFLAKE_PRIVATE_KEY_PATH.*SNOWFLAKE_PASSWORD"):
        SnowflakeSettings.from_url("snowflake://loader@acct/db")
    with pytest.raises(SourceError, match="account and user missing"):
        SnowflakeSettings.from_url("snowflake://")


def test_unknown_table_and_bad_time_column(events: FakeSnowflake) -> None:
    with pytest.raises(TableNotFoundError, match="'absent'") as caught:
        read_all(SnowflakeSource(events.url(), table="absent"))
    assert PASSWORD not in str(caught.value)
    window = TimeWindow.for_day("2025-05-01")
    with pytest.raises(SourceError, match=r"'UID'.* has type string; a time window needs"):
        read_all(SnowflakeSource(events.url(), table="events", time_column="uid"),
                 window=window)
    with pytest.raises(ColumnNotFoundError, match="'nope' not found"):
        read_all(SnowflakeSource(events.url(), table="events", time_column="nope"),
                 window=window)
    with pytest.raises(SourceError, match="not a Snowflake table name"):
        SnowflakeSource(events.url(), table="events; DROP TABLE events")


def test_query_returning_no_rows(events: FakeSnowflake) -> None:
    source = SnowflakeSource(events.url(), table="events", time_column="ntz")
    assert read_all(source, window=TimeWindow.for_day("2030-01-01")).num_rows == 0
    assert source.schema(["id"]) == pa.schema([("id", pa.int64())])


def test_unreachable_and_refused_logins_hide_the_password(
    refusing_snowflake: RefusingSnowflake,
) -> None:
    secret = quote(PASSWORD, safe="")
    closed = f"snowflake://loader:{secret}@acct/db/s?host=127.0.0.1&port=1&protocol=http"
    with pytest.raises(SourceError, match="cannot reach Snowflake") as unreachable:
        SnowflakeSource(closed + "&login_timeout=3", table="events").schema()
    refusing = closed.replace("port=1", f"port={refusing_snowflake.port}")
    with pytest.raises(SourceError, match=r"refused the login.*Incorrect username") as refused:
        SnowflakeSource(refusing, table="events").schema()
    for caught in (unreachable, refused):
        assert PASSWORD not in str(caught.value) and secret not in str(caught.value)
    # The password reached the login request decoded from the URL, as typed.
    assert refusing_snowflake.logins[-1]["data"]["PASSWORD"] == PASSWORD


def test_key_pair_login_sends_a_jwt_signed_with_the_key(
    refusing_snowflake: RefusingSnowflake, tmp_path, monkeypatch
) -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    path = _write_key(tmp_path, None)
    monkeypatch.delenv("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE", raising=False)
    url = (f"snowflake://loader@acct/db/s?host=127.0.0.1&port={refusing_snowflake.port}"
           f"&protocol=http&private_key_path={path}")
    with pytest.raises(SourceError, match="refused the login"):
        SnowflakeSource(url, table="events").schema()
    login = refusing_snowflake.logins[-1]["data"]
    assert login["AUTHENTICATOR"] == "SNOWFLAKE_JWT" and "PASSWORD" not in login
    header, payload, signature = login["TOKEN"].split(".")
    public_key = serialization.load_pem_private_key(
        Path(path).read_bytes(), password=None
    ).public_key()
    public_key.verify(_unbase64(signature), f"{header}.{payload}".encode(),
                      padding.PKCS1v15(), hashes.SHA256())  # raises if not signed by the key
    assert json.loads(_unbase64(payload))["sub"] == "ACCT.LOADER"


def _unbase64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_missing_connector_names_the_extra(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "snowflake.connector", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "snowflake.connector.errors", None)
    with pytest.raises(MissingExtraError, match=r"moengage-pipelines\[snowflake\]"):
        SnowflakeSource("snowflake://u:p@acct/db", table="events").schema()


# -- through the CLI ------------------------------------------------------------------------

EVENTS_MAPPING = """
entity: events
customer_id: UID
event_name: Purchase
event_time_column: NTZ
attributes: [AMOUNT, PROPS]
"""


def _push(url: str, mapping, *extra: str) -> int:
    return main(["push", "events", "--source", url, "--mapping", str(mapping), "--dry-run",
                 *extra])


def test_cli_dry_run_reads_the_window(events, tmp_path, capsys) -> None:
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    code = _push(events.url(), mapping, "--table", "events", "--time-column", "ntz",
                 "--day", "2025-05-02")
    out = capsys.readouterr().out
    in_window = sum(1 for i in IDS if _moment(i).date() == dt.date(2025, 5, 2))
    assert code == 0
    assert f"rows read:     {in_window}" in out
    assert f"events packed (dry run): {in_window}" in out


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--table", "absent"], "table 'absent' does not exist"),
        (["--table", "events", "--time-column", "uid", "--day", "2025-05-01"],
         "has type string; a time window needs"),
        (["--table", "events", "--time-column", "nope", "--day", "2025-05-01"],
         "column 'nope' not found"),
        (["--table", "events", "--order-by", "id,nope"], "column 'nope' not found"),
    ],
)
def test_cli_bad_input_is_one_error_line(events, tmp_path, capsys, arguments, message) -> None:
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    code = _push(events.url(), mapping, *arguments)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1
    assert message in err
    assert PASSWORD not in err and "Traceback" not in err


def test_cli_missing_credentials_and_extra(tmp_path, capsys, monkeypatch) -> None:
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    for name in ("PASSWORD", "PRIVATE_KEY_PATH"):
        monkeypatch.delenv(f"SNOWFLAKE_{name}", raising=False)
    assert _push("snowflake://loader@acct/db/s", mapping, "--table", "events") == 2
    assert "Snowflake credentials missing" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "snowflake.connector", None)
    url = f"snowflake://loader:{quote(PASSWORD, safe='')}@acct/db"
    assert _push(url, mapping, "--table", "events") == 2
    err = capsys.readouterr().err
    assert "pip install 'moengage-pipelines[snowflake]'" in err and PASSWORD not in err


def test_cli_warns_when_the_window_is_empty(events, tmp_path, capsys) -> None:
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    code = _push(events.url(), mapping, "--table", "events", "--time-column", "ntz",
                 "--day", "2030-01-01")
    captured = capsys.readouterr()
    assert code == 0
    assert "rows read:     0" in captured.out
    assert "warning: " in captured.err and "returned no rows in the window" in captured.err
    assert PASSWORD not in captured.err


def test_cli_unreachable_warehouse_is_one_error_line(tmp_path, capsys) -> None:
    mapping = tmp_path / "events.yml"
    mapping.write_text(EVENTS_MAPPING)
    url = (f"snowflake://loader:{quote(PASSWORD, safe='')}@acct/db/s?host=127.0.0.1&port=1"
           "&protocol=http&login_timeout=3")
    assert _push(url, mapping, "--table", "events") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot reach Snowflake at snowflake://loader@acct/db/s")
    assert err.count("\n") == 1 and PASSWORD not in err and quote(PASSWORD, safe="") not in err
