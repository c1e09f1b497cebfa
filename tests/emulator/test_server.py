"""The real loopback server, the CLI, persistence and the HTTP inspection API."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from moengage_pipelines.cli import build_parser, main
from moengage_pipelines.cli.emulator import settings_from_args
from moengage_pipelines.emulator import Emulator, EmulatorSettings, FaultRule, serve
from moengage_pipelines.emulator.report_definitions import ENV_REPORTS
from tests.emulator.conftest import DATA_KEY, WORKSPACE, action, customer, event, transition

BULK = f"/v1/transition/{WORKSPACE}"
ROOT = Path(__file__).resolve().parents[2]


def test_server_answers_like_the_transport(moengage_emulator_server):
    with httpx.Client(base_url=moengage_emulator_server.url, auth=(WORKSPACE, DATA_KEY)) as client:
        ok = client.post(
            BULK, json=transition(customer("user-1", name="Ada"), event("user-1", action("Opened")))
        )
        assert ok.status_code == 200
        assert ok.headers["content-type"] == "application/json"
        assert "x-ratelimit-remaining" in ok.headers
        bad = client.post(BULK, content=b"{", headers={"Content-Type": "application/json"})
        assert bad.status_code == 400
        assert bad.json()["error"]["type"] == "Malformed JSON"
    assert moengage_emulator_server.emulator.inspect.users() == {"user-1": {"name": "Ada"}}
    assert len(moengage_emulator_server.emulator.inspect.events()) == 1


def test_reset_after_apply_drops_the_real_connection(moengage_emulator_server):
    emulator = moengage_emulator_server.emulator
    emulator.faults.set([FaultRule("transition", "reset", count=1)])
    with httpx.Client(base_url=moengage_emulator_server.url, auth=(WORKSPACE, DATA_KEY)) as client:
        with pytest.raises(httpx.TransportError):
            client.post(BULK, json=transition(customer("user-1")))
        # Applied although the client never saw an answer; the next request works.
        assert emulator.inspect.users() == {"user-1": {}}
        assert client.post(BULK, json=transition(customer("user-2"))).status_code == 200
    assert emulator.inspect.counters()["transition"]["reset"] == 1


def test_timeout_fault_on_the_real_server(moengage_emulator_server):
    emulator = moengage_emulator_server.emulator
    emulator.faults.set([FaultRule("transition", "timeout", seconds=5, count=1)])
    with (
        httpx.Client(
            base_url=moengage_emulator_server.url, auth=(WORKSPACE, DATA_KEY), timeout=0.3
        ) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.post(BULK, json=transition(customer("user-1")))
    with httpx.Client(base_url=moengage_emulator_server.url, auth=(WORKSPACE, DATA_KEY)) as client:
        assert client.post(BULK, json=transition(customer("user-2"))).status_code == 200
    assert emulator.inspect.users() == {"user-2": {}}


def test_error_fault_on_the_real_server(moengage_emulator_server):
    moengage_emulator_server.emulator.faults.set(
        [FaultRule("transition", "error", status=502, count=1)]
    )
    with httpx.Client(base_url=moengage_emulator_server.url, auth=(WORKSPACE, DATA_KEY)) as client:
        assert client.post(BULK, json=transition(customer("user-1"))).status_code == 502


def raw_http(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)  # the client hangs up mid-body
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def test_bad_requests_get_moengage_errors_not_tracebacks(moengage_emulator_server):
    url = moengage_emulator_server.url
    with httpx.Client(base_url=url) as client:
        huge = client.get("/_emulator/health", headers={"X-Big": "a" * 40_000})
        assert huge.status_code == 431
        assert huge.json()["status"] == "fail"
        assert client.delete("/v1/customer/merge").status_code == 405
        weird = client.post("/v1/%E2%9C%93/..//x", content=b"\x00\x01")
        assert weird.status_code == 404
        assert weird.json()["error"]["type"] == "Not Found"
    # A body shorter than its Content-Length, then the client hangs up: no crash, server lives.
    raw_http(
        url,
        b"POST /v1/transition/TEST_WORKSPACE HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n"
        b"Connection: close\r\n\r\n{}",
    )
    with httpx.Client(base_url=url) as client:
        assert client.get("/_emulator/health").json() == {"status": "ok"}


def test_http_inspection_api(moengage_emulator_server):
    with httpx.Client(base_url=moengage_emulator_server.url, auth=(WORKSPACE, DATA_KEY)) as client:
        client.post(
            BULK,
            json=transition(
                customer("user-1", name="Ada"),
                customer("null"),
                event("user-1", action("Opened"), action("Bought")),
            ),
        )
        client.post(BULK, json=transition())
    with httpx.Client(base_url=f"{moengage_emulator_server.url}/_emulator") as admin:
        assert admin.get("/users").json() == {"user-1": {"name": "Ada"}}
        assert admin.get("/users/user-1").json()["attributes"] == {"name": "Ada"}
        assert admin.get("/users/nobody").status_code == 404
        assert [
            e["action"] for e in admin.get("/events", params={"limit": 1, "offset": 1}).json()
        ] == ["Bought"]
        assert admin.get("/events", params={"limit": "x"}).status_code == 400
        assert (
            admin.get("/dropped").json()[0]["reason"] == "customer_id is a value MoEngage refuses"
        )
        assert admin.get("/summary").json()["events"] == 2
        counters = admin.get("/counters").json()
        assert (counters["transition"]["2xx"], counters["transition"]["400"]) == (1, 1)
        assert f"{WORKSPACE}/transition_users/60s" in admin.get("/rate-usage").json()
        assert len(admin.get("/campaigns").json()) == 25
        assert admin.get("/devices").json() == {}
        assert admin.get("/merges").json() == [] and admin.get("/deletions").json() == []
        assert admin.get("/users", params={"workspace": "OTHER"}).json() == {}
        assert admin.post("/reset").json() == {"status": "reset"}
        assert admin.get("/users").json() == {}
        assert admin.get("/counters").json() == {"total": {}}


def test_state_survives_a_restart(tmp_path):
    database = str(tmp_path / "emulator.sqlite")
    with Emulator(EmulatorSettings(database=database)) as first, serve(first) as url:
        with httpx.Client(base_url=url, auth=(WORKSPACE, DATA_KEY)) as client:
            client.post(
                BULK,
                json=transition(
                    customer("user-1", name="Ada"),
                    customer("guest"),
                    event("user-1", action("Opened")),
                ),
            )
        moengage_id = first.inspect.user("user-1")["moengage_id"]
    with Emulator(EmulatorSettings(database=database)) as second:
        assert second.inspect.users() == {"user-1": {"name": "Ada"}}
        assert second.inspect.user("user-1")["moengage_id"] == moengage_id
        assert [e["action"] for e in second.inspect.events()] == ["Opened"]
        assert len(second.inspect.dropped()) == 1


def test_concurrent_clients_on_the_real_server(moengage_emulator_server):
    import concurrent.futures

    def send(batch: int) -> int:
        with httpx.Client(
            base_url=moengage_emulator_server.url, auth=(WORKSPACE, DATA_KEY)
        ) as client:
            body = transition(*(customer(f"user-{batch}-{i}") for i in range(50)))
            return client.post(BULK, json=body).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(send, range(16)))
    assert statuses == [200] * 16
    assert moengage_emulator_server.emulator.inspect.summary()["users"] == 800


def test_cli_starts_prints_url_and_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "MOENGAGE_WORKSPACE_ID": "CLI_WS",
        "MOENGAGE_DATA_API_KEY": "cli-data",
        "MOENGAGE_CAMPAIGN_API_KEY": "cli-campaign",
    }
    database = tmp_path / "cli.sqlite"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "moengage_pipelines.cli",
            "emulator",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--time-scale",
            "60",
            "--database",
            str(database),
            "--faults",
            "customer:error:status=503",
            "--reports",
            '[{"name": "CLI Report", "generated_on": "2025-03-01", "schedule": "weekly"}]',
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.split("listening on ", 1)[1].split()[0]
        with httpx.Client(base_url=url, auth=("CLI_WS", "cli-data")) as client:
            assert (
                client.post(
                    "/v1/transition/CLI_WS", json=transition(customer("user-1"))
                ).status_code
                == 200
            )
            assert client.post("/v1/customer/CLI_WS", json=customer("user-2")).status_code == 503
            # The CLI serves CLI_WS only: TEST_WORKSPACE is no workspace there.
            assert client.post(BULK, json=transition(customer("user-3"))).status_code == 400
            [report] = client.get("/_emulator/reports").json()
            assert (report["name"], report["workspace"], report["schedule"]) == (
                "CLI Report",
                "CLI_WS",
                "weekly",
            )
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with Emulator(EmulatorSettings(workspace_id="CLI_WS", database=str(database))) as reopened:
        assert reopened.inspect.users() == {"user-1": {}}


def test_cli_rejects_bad_faults():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "moengage_pipelines.cli",
            "emulator",
            "--port",
            "0",
            "--faults",
            "x:explode",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "unknown fault kind" in result.stderr


def test_cli_reports_option_wins_over_the_variable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(ENV_REPORTS, '[{"name": "From Env", "generated_on": "2025-03-01"}]')
    parser = build_parser()
    from_env = settings_from_args(parser.parse_args(["emulator"]))
    assert [d.name for d in from_env.reports] == ["From Env"]
    path = tmp_path / "reports.json"
    path.write_text('[{"name": "From File", "generated_on": "2025-03-02", "channels": ["SMS"]}]')
    from_file = settings_from_args(parser.parse_args(["emulator", "--reports", f"@{path}"]))
    assert [(d.name, d.channels) for d in from_file.reports] == [("From File", ("SMS",))]
    none = settings_from_args(parser.parse_args(["emulator", "--reports", "[]"]))
    assert none.reports == ()
    assert main(["emulator", "--port", "0", "--reports", "{not json"]) == 2
    assert "--reports must be a JSON list of report definitions" in capsys.readouterr().err
