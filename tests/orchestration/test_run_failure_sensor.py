"""The run-failure sensor, evaluated the way the daemon does against real failed runs.

A real Dagster run fails in a temporary instance; the sensor's tick then finds it in the event
log, writes it to ``moengage_run_failures`` (real DuckDB) and posts it to a real HTTP receiver
on a loopback port.
"""

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from dagster_project.defs.operations.alerts import moengage_run_failure_alert
from dagster_project.partitions import DAILY
from dagster_project.resources import WarehouseResource
from dagster_project.run_failures import FAILURES_TABLE, WEBHOOK_VARIABLE, WebhookError
from moengage_pipelines.warehouse import Warehouse

SECRET = "data-key-that-must-not-leak"
PARTITION = "2025-06-01"


class Receiver(ThreadingHTTPServer):
    """Records the JSON bodies POSTed to it; answers ``status``."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.received: list[tuple[str, dict]] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/T0KEN-IN-PATH"


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers["Content-Type"], json.loads(body)))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _receiver(status: int) -> Iterator[Receiver]:
    server = Receiver(status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver answering 200."""
    yield from _receiver(200)


@pytest.fixture
def broken_receiver() -> Iterator[Receiver]:
    """A webhook receiver answering 500."""
    yield from _receiver(500)


@dg.asset(partitions_def=DAILY)
def sync_that_fails(context: dg.AssetExecutionContext) -> None:
    """Fails the way a push does on a refused key, quoting the key in its message."""
    raise dg.Failure(
        description=f"MoEngage answered 401 for partition {context.partition_key} "
        f"with key {SECRET}",
        allow_retries=False,
    )


@dg.asset
def sync_that_works() -> None:
    """Succeeds."""


failing_job = dg.define_asset_job("failing_sync", selection=[sync_that_fails])
working_job = dg.define_asset_job("working_sync", selection=[sync_that_works])
DEFINITIONS = dg.Definitions(
    assets=[sync_that_fails, sync_that_works],
    jobs=[failing_job, working_job],
    sensors=[moengage_run_failure_alert],
)


def _tick(instance: dg.DagsterInstance, warehouse: WarehouseResource, cursor: str | None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=DEFINITIONS,
        resources={"warehouse": warehouse},
    )
    return moengage_run_failure_alert.evaluate_tick(context)


def _run(instance: dg.DagsterInstance, name: str, **kwargs) -> dg.ExecuteInProcessResult:
    job = DEFINITIONS.resolve_job_def(name)
    return job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)


def _rows(warehouse: WarehouseResource) -> list[dict]:
    with Warehouse.open(warehouse.url) as results:
        return results.query(f"SELECT * FROM {FAILURES_TABLE} ORDER BY failed_at").to_pylist()


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> WarehouseResource:
    monkeypatch.setenv("MOENGAGE_DATA_API_KEY", SECRET)
    monkeypatch.delenv("MOENGAGE_RESULTS_URL", raising=False)
    return WarehouseResource(url=f"duckdb:///{tmp_path}/results.duckdb")


def test_a_failed_run_is_recorded_and_posted_without_the_key(receiver, warehouse, monkeypatch):
    monkeypatch.setenv(WEBHOOK_VARIABLE, receiver.url)
    with dg.instance_for_test() as instance:
        first = _tick(instance, warehouse, cursor=None)  # starts watching from now
        assert _run(instance, "working_sync").success
        failed = _run(instance, "failing_sync", partition_key=PARTITION)
        assert not failed.success
        second = _tick(instance, warehouse, cursor=first.cursor)
        assert second.cursor != first.cursor

    [row] = _rows(warehouse)
    assert row["run_id"] == failed.run_id
    assert row["job_name"] == "failing_sync"
    assert row["partition"] == PARTITION
    assert row["failed_steps"] == "sync_that_fails"
    assert f"401 for partition {PARTITION}" in row["message"]
    assert SECRET not in row["message"]

    [(content_type, message)] = receiver.received
    assert content_type == "application/json"
    assert message["run_id"] == failed.run_id
    assert message["job_name"] == "failing_sync"
    assert message["partition"] == PARTITION
    assert message["failed_steps"][0]["step"] == "sync_that_fails"
    assert "401" in message["text"] and failed.run_id in message["text"]
    assert SECRET not in json.dumps(message)


def test_without_a_webhook_the_failure_is_only_recorded(receiver, warehouse, monkeypatch):
    monkeypatch.delenv(WEBHOOK_VARIABLE, raising=False)
    with dg.instance_for_test() as instance:
        first = _tick(instance, warehouse, cursor=None)
        failed = _run(instance, "failing_sync", partition_key=PARTITION)
        _tick(instance, warehouse, cursor=first.cursor)
    assert [row["run_id"] for row in _rows(warehouse)] == [failed.run_id]
    assert receiver.received == []


def test_a_refusing_webhook_errs_the_tick_without_showing_its_path(
    broken_receiver, warehouse, monkeypatch
):
    monkeypatch.setenv(WEBHOOK_VARIABLE, broken_receiver.url)
    with dg.instance_for_test() as instance:
        first = _tick(instance, warehouse, cursor=None)
        failed = _run(instance, "failing_sync", partition_key=PARTITION)
        second = _tick(instance, warehouse, cursor=first.cursor)
    # The daemon reports a sensor's error on its tick, not on the failed run.
    [reaction] = second.dagster_run_reactions
    assert reaction.dagster_run.run_id == failed.run_id
    assert reaction.error is not None
    text = reaction.error.to_string()
    assert WebhookError.__name__ in text and "HTTP 500" in text
    assert "T0KEN-IN-PATH" not in text
    assert len(broken_receiver.received) == 1
    # Recorded before the post, so the table still has the failure.
    assert [row["run_id"] for row in _rows(warehouse)] == [failed.run_id]
