"""A local Snowflake stand-in: fakesnow's HTTP server, reached by the real connector.

The source under test talks to it exactly as to Snowflake (login request, query request,
Arrow result decoded by the connector, ``fetch_arrow_batches``); fakesnow answers from DuckDB.
Each test gets its own database, so tests sharing the server never see each other's tables.
Also here: a loopback server that refuses every login the way Snowflake does.
"""

from __future__ import annotations

import gzip
import http.server
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

snowflake_connector = pytest.importorskip("snowflake.connector")
fakesnow = pytest.importorskip("fakesnow")

PASSWORD = "Pw-s3cret!#%"


@dataclass
class FakeSnowflake:
    """One database on the fake server, and how to reach it."""

    port: int
    database: str
    schema: str = "PUBLIC_TEST"

    def url(self, *, user: str = "loader", password: str | None = PASSWORD, **query: str) -> str:
        """A ``snowflake://`` URL of this database (the password percent-encoded)."""
        from urllib.parse import quote, urlencode

        secret = f":{quote(password, safe='')}" if password else ""
        params = {"host": "127.0.0.1", "port": str(self.port), "protocol": "http", **query}
        return (f"snowflake://{user}{secret}@fakeaccount/{self.database}/{self.schema}?"
                + urlencode(params))

    def run(self, *statements: str) -> None:
        """Run statements through the real connector, in this database."""
        connection = snowflake_connector.connect(
            user="admin", password="admin", account="fakeaccount", host="127.0.0.1",
            port=self.port, protocol="http", database=self.database, schema=self.schema,
        )
        try:
            cursor = connection.cursor()
            for statement in statements:
                cursor.execute(statement)
        finally:
            connection.close()


@pytest.fixture(scope="session")
def fakesnow_port() -> Iterator[int]:
    """Port of a fakesnow server shared by every test of the run."""
    with fakesnow.server() as arguments:
        yield arguments["port"]


@pytest.fixture
def fake_snowflake(fakesnow_port: int) -> FakeSnowflake:
    """A fresh database (with schema ``PUBLIC_TEST``) on the fake server."""
    database = f"DB_{uuid.uuid4().hex[:10].upper()}"
    fake = FakeSnowflake(fakesnow_port, database)
    connection = snowflake_connector.connect(
        user="admin", password="admin", account="fakeaccount", host="127.0.0.1",
        port=fakesnow_port, protocol="http",
    )
    try:
        cursor = connection.cursor()
        cursor.execute(f"CREATE DATABASE {database}")
        cursor.execute(f"CREATE SCHEMA {database}.{fake.schema}")
    finally:
        connection.close()
    return fake


class _RefusingLogin(http.server.BaseHTTPRequestHandler):
    """Answers every request as Snowflake answers a wrong password (code 390100).

    The login requests' JSON bodies are kept in ``server.logins``, to check what was sent.
    """

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if "login-request" in self.path:
            self.server.logins.append(json.loads(body))  # type: ignore[attr-defined]
        body = json.dumps({
            "data": {"nextAction": None, "authnMethod": "USERNAME_PASSWORD"},
            "code": "390100",
            "message": "Incorrect username or password was specified.",
            "success": False,
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class RefusingSnowflake(http.server.ThreadingHTTPServer):
    """A loopback server refusing every Snowflake login; ``logins`` holds what was sent."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _RefusingLogin)
        self.logins: list[dict[str, Any]] = []

    @property
    def port(self) -> int:
        return self.server_address[1]


@pytest.fixture
def refusing_snowflake() -> Iterator[RefusingSnowflake]:
    """A loopback server refusing every Snowflake login."""
    server = RefusingSnowflake()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
