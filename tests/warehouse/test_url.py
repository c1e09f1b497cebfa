from __future__ import annotations

import pytest

from moengage_pipelines.redaction import redact_url
from moengage_pipelines.warehouse import Warehouse, WarehouseError, WarehouseURL


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("duckdb:///abs/path.duckdb", "/abs/path.duckdb"),
        ("duckdb:/abs/path.duckdb", "/abs/path.duckdb"),
        ("duckdb://rel/path.duckdb", "rel/path.duckdb"),
        ("duckdb:///:memory:", ":memory:"),
        (":memory:", ":memory:"),
        ("/data/x.duckdb", "/data/x.duckdb"),
    ],
)
def test_duckdb_urls(url: str, target: str) -> None:
    parsed = WarehouseURL.parse(url)
    assert (parsed.kind, parsed.target) == ("duckdb", target)
    # describe() reads back as the same location
    assert WarehouseURL.parse(parsed.describe()).target == target


def test_postgres_url_schema_parameter_is_ours_and_stripped() -> None:
    parsed = WarehouseURL.parse("postgresql://u:pw@h:5433/db?schema=analytics&sslmode=disable")
    assert parsed.kind == "postgres"
    assert parsed.schema == "analytics"
    assert "schema=" not in parsed.target
    assert "sslmode=disable" in parsed.target
    assert WarehouseURL.parse("postgresql://u@h/db?schema=a", schema="b").schema == "b"


def test_passwords_are_redacted_everywhere() -> None:
    url = "postgresql://etl:s3cr%40t@db.example:5432/analytics?password=other&schema=s"
    parsed = WarehouseURL.parse(url)
    for text in (parsed.describe(), redact_url(url), repr(parsed), str(parsed)):
        assert "s3cr" not in text
        assert "other" not in text
        assert "etl:***@db.example:5432" in text
    assert "password=***" in redact_url("host=h user=u password=hunter2")
    assert "hunter2" not in redact_url("host=h user=u password=hunter2")


def test_unsupported_url_error_is_redacted() -> None:
    with pytest.raises(WarehouseError) as caught:
        Warehouse.open("mysql://root:topsecret@host/db")
    assert "topsecret" not in str(caught.value)
    assert "mysql://root:***@host/db" in str(caught.value)


@pytest.mark.postgres
def test_connection_failure_is_redacted(postgres_dsn: str) -> None:
    # Port 1 refuses connections: the error must name the target without its password.
    with pytest.raises(WarehouseError) as caught:
        Warehouse.open("postgresql://postgres:topsecret@127.0.0.1:1/test?connect_timeout=2")
    message = str(caught.value)
    assert "topsecret" not in message
    assert "postgres:***@127.0.0.1:1" in message
    assert caught.value.__cause__ is None


@pytest.mark.postgres
def test_repr_of_open_warehouse_hides_password(postgres_dsn: str, pg_schema: str) -> None:
    url = postgres_dsn.replace("postgres@", "postgres:topsecret@") + f"?schema={pg_schema}"
    with Warehouse.open(url) as warehouse:
        assert "topsecret" not in repr(warehouse)
        assert "topsecret" not in warehouse.describe()
        assert pg_schema in warehouse.describe()
