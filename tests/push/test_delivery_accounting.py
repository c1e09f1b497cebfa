"""Every valid row ends counted once: sent, skipped, held or failed, whatever stops delivery."""

from __future__ import annotations

import socket

import pyarrow as pa
import pyarrow.parquet as pq

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import MemoryBudgetStore, RateBudget, Window
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.config import MoEngageSettings
from moengage_pipelines.emulator import Emulator, EmulatorSettings
from moengage_pipelines.emulator.clock import FakeClock
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.pytest_plugin import client_for
from moengage_pipelines.emulator.settings import RateLimit
from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.sources import ParquetSource

EVENTS = {"entity": "events", "customer_id": "uid", "event_name": "Bought",
          "attributes": ["note"]}


def _source(tmp_path, rows: int) -> ParquetSource:
    path = tmp_path / "events.parquet"
    uids = [f"user-{i}" if i % 50 else "null" for i in range(rows)]  # 2% banned: rejected
    pq.write_table(pa.table({"uid": uids, "note": [f"row-{i}" for i in range(rows)]}), path)
    return ParquetSource(path)


def test_after_a_401_every_valid_row_is_counted_as_failed(
    tmp_path, moengage_emulator, dead_letters
):
    emulator_settings = moengage_emulator.settings
    wrong = MoEngageSettings(
        workspace_id=emulator_settings.workspace_id, data_api_key="not-the-key",
        campaign_api_key=emulator_settings.campaign_api_key,
    )
    with MoEngageClient(
        wrong, transport=moengage_emulator.transport(), budget=RateBudget.unlimited(),
        retry=RetryConfig(max_attempts=1),
    ) as client:
        report = run_push(
            _source(tmp_path, 5_000), EVENTS, client, sync_name="events",
            dead_letters=dead_letters,
            options=PushOptions(max_body_bytes=2_000, concurrency=2, batch_rows=1_000),
        )
    assert report.rows_read == 5_000 and report.rows_valid == 4_900
    assert report.events_sent == 0 and report.failed_rows == report.rows_valid
    assert report.rows_unaccounted == 0 and not report.ok
    assert report.stop_reason.startswith("401")
    assert "not-the-key" not in report.summary()
    letters = dead_letters.read("events").to_pylist()
    rules = {letter["rule"] for letter in letters}
    assert rules == {"banned_customer_id", "delivery_failed", "not_sent"}
    [not_sent] = [letter for letter in letters if letter["rule"] == "not_sent"]
    assert "delivery stopped after 401" in not_sent["message"]
    # Only the bodies already in flight were tried: the rest never left.
    assert moengage_emulator.inspect.counters()["transition"]["requests"] <= 4


def test_a_clean_push_accounts_for_every_valid_row(tmp_path, client):
    report = run_push(_source(tmp_path, 3_000), EVENTS, client, sync_name="events",
                      options=PushOptions(max_body_bytes=2_000))
    assert report.ok and report.rows_unaccounted == 0
    assert report.events_sent == report.rows_valid == 2_940


def test_a_429_storm_is_waited_out_and_every_event_arrives(tmp_path):
    # The workspace's real budget is a sixth of the one configured here (another app spends
    # the rest): MoEngage answers 429 again and again. Back-pressure, not failure. Time is a
    # fake clock that moves when the client waits, so the storm takes no real time.
    clock = FakeClock()
    server = EmulatorSettings(
        clock=clock, rate_limits={"transition_events": (RateLimit(10_000, 60),)}
    )
    with Emulator(server) as emulator:
        budget = RateBudget(
            MemoryBudgetStore(), namespace="storm", clock=clock, sleep=clock.sleep,
            limits={"transition_events": [Window.per_minute(60_000)]},
        )
        retry = RetryConfig(clock=clock, sleep=clock.sleep, max_attempts=2)
        with client_for(emulator, budget=budget, retry=retry) as client:
            report = run_push(
                _source(tmp_path, 30_000), EVENTS, client, sync_name="events",
                options=PushOptions(concurrency=1), ledger=None, dead_letters=None,
            )
        received = len(emulator.inspect.events())
        answered_429 = emulator.inspect.counters()["transition"]["429"]
    assert report.http_429 == answered_429 > 0
    assert report.ok and report.failed_rows == 0
    assert received == report.events_sent == report.rows_valid
    # 29,400 events at 10,000 a minute: the first window's worth at once, the rest paced.
    assert clock.now - 1_700_000_000.0 >= (29_400 - 10_000) / 10_000 * 60 - 1


def test_an_unreachable_host_stops_the_push_after_a_few_connections(tmp_path):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings_ = MoEngageSettings(
        workspace_id="TEST_WORKSPACE", data_api_key="k", campaign_api_key="c",
        base_url=f"http://127.0.0.1:{port}",
    )
    retry = RetryConfig(backoff_initial=0.01, backoff_max=0.02)
    with MoEngageClient(settings_, budget=RateBudget.unlimited(), retry=retry) as client:
        report = run_push(
            _source(tmp_path, 20_000), EVENTS, client, sync_name="events",
            options=PushOptions(max_body_bytes=2_000, concurrency=4), ledger=None,
            dead_letters=None,
        )
        attempts = client.stats.requests
    assert not report.ok and report.failed_rows == report.rows_valid
    assert report.rows_unaccounted == 0 and report.ambiguous_bodies == 0
    assert f"127.0.0.1:{port}" in report.stop_reason
    # A circuit opens after 4 failed connections: a few attempts, not 6 per body.
    assert attempts <= 4 + 4 * 6


def test_a_refusal_of_the_request_itself_stops_the_push(tmp_path):
    # A blacklisted workspace: MoEngage refuses the request, not its data, so every body would
    # be refused the same way. Delivery stops; the rows are counted as failed, never dropped.
    with Emulator(EmulatorSettings(account_states={"TEST_WORKSPACE": "blacklisted"})) as emulator:
        with client_for(emulator, budget=RateBudget.unlimited()) as client:
            report = run_push(
                _source(tmp_path, 20_000), EVENTS, client, sync_name="events",
                options=PushOptions(max_body_bytes=2_000, concurrency=2), ledger=None,
                dead_letters=None,
            )
        requests = emulator.inspect.counters()["transition"]["requests"]
    assert report.stop_reason.startswith("400 Blacklisted")
    assert report.failed_rows == report.rows_valid and report.rows_unaccounted == 0
    assert requests <= 4  # the bodies in flight when the first refusal came back


def test_echoed_credentials_never_reach_the_dead_letters_or_the_state(
    tmp_path, moengage_emulator, results, dead_letters
):
    import base64

    moengage_emulator.faults.add(FaultRule(endpoint="transition", kind="echo_auth", status=500))
    ledger = PushLedger(results)
    with client_for(moengage_emulator, budget=RateBudget.unlimited(),
                    retry=RetryConfig(max_attempts=1)) as client:
        report = run_push(
            _source(tmp_path, 2_000), EVENTS, client, sync_name="events",
            options=PushOptions(max_body_bytes=2_000, concurrency=2), ledger=ledger,
            dead_letters=dead_letters,
        )
    emulator_settings = moengage_emulator.settings
    key = emulator_settings.data_api_key
    token = base64.b64encode(f"{emulator_settings.workspace_id}:{key}".encode()).decode()
    stored = " ".join(
        [*(str(v) for row in dead_letters.read().to_pylist() for v in row.values()),
         *(str(v) for row in ledger.read().to_pylist() for v in row.values()),
         report.summary()]
    )
    assert report.failed_rows == report.rows_valid and "500" in stored
    assert key not in stored and token not in stored and token.rstrip("=") not in stored
