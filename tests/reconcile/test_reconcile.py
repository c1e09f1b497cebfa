"""Reconciliation end to end: push users to the emulator, read a sample back, record mismatches."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest

from moengage_pipelines.api.client import MoEngageClient
from moengage_pipelines.api.ratebudget import MemoryBudgetStore, RateBudget
from moengage_pipelines.api.retries import RetryConfig
from moengage_pipelines.emulator.faults import FaultRule
from moengage_pipelines.emulator.pytest_plugin import settings_for
from moengage_pipelines.errors import AuthError, ConfigError, MoEngageHTTPError
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.reconcile import (
    RECONCILIATION_TABLE,
    ReconciliationWriter,
    reconcile_users,
)
from moengage_pipelines.sources import open_source
from moengage_pipelines.warehouse import Warehouse
from tests.reconcile.conftest import USERS_MAPPING, user_rows

SECRET_KEY = "data-key-" + uuid.uuid4().hex


def push_users(spec: str, client: MoEngageClient) -> None:
    report = run_push(open_source(spec), USERS_MAPPING, client, sync_name="users", ledger=None)
    assert report.ok and report.rows_rejected == 0


def test_over_real_http_zero_mismatches_then_each_edit_is_recorded(
    moengage_emulator_server, users_parquet, tmp_path
):
    spec = users_parquet(user_rows(60))
    server = moengage_emulator_server
    with (
        MoEngageClient(settings_for(server)) as client,
        Warehouse.open(f"duckdb:///{tmp_path / 'results.duckdb'}") as results,
    ):
        push_users(spec, client)
        clean = reconcile_users(
            open_source(spec), USERS_MAPPING, client, sample_size=60, sync_name="users",
            results=results, seed=7,
        )  # fmt: skip
        assert (clean.users_sampled, clean.users_found, clean.mismatches) == (60, 60, [])
        # 60 users x 9 attributes (the date, timestamp, float and list ones included).
        assert clean.attributes_compared == 60 * 9
        assert clean.requests == 3
        assert not results.table_exists(RECONCILIATION_TABLE)

        # What MoEngage holds changes behind the pipeline's back (the emulator's state API).
        with httpx.Client(base_url=server.url) as state:
            edits = {
                "user-3": {"plan": "enterprise"},
                "user-8": {"ltv": 1.0, "signup_at": "2020-01-01T00:00:00Z"},
                "user-9": {"email": None},
            }
            for customer_id, attributes in edits.items():
                assert state.patch(f"/_emulator/users/{customer_id}", json=attributes).is_success
        report = reconcile_users(
            open_source(spec), USERS_MAPPING, client, sample_size=60, sync_name="users",
            results=results, seed=7, partition="2024-01-01",
        )  # fmt: skip
        rows = results.query(
            f"SELECT customer_id, attribute, reason, sent, found, partition, sync_name "
            f"FROM {RECONCILIATION_TABLE} WHERE run_id = $1 ORDER BY customer_id, attribute",
            [report.run_id],
        ).to_pylist()
    assert [(r["customer_id"], r["attribute"], r["reason"]) for r in rows] == [
        ("user-3", "plan", "different"),
        ("user-8", "ltv", "different"),
        ("user-8", "signup_at", "different"),
        ("user-9", "email", "missing"),
    ]
    by_attribute = {r["attribute"]: r for r in rows}
    assert (by_attribute["plan"]["sent"], by_attribute["plan"]["found"]) == (
        '"free"',
        '"enterprise"',
    )
    assert (by_attribute["ltv"]["sent"], by_attribute["ltv"]["found"]) == ("10.0", "1.0")
    assert by_attribute["email"]["found"] is None
    assert {(r["partition"], r["sync_name"]) for r in rows} == {("2024-01-01", "users")}
    assert report.rows_recorded == 4 and not report.ok
    assert report.users_mismatched == 3


def test_users_unknown_to_moengage_are_recorded_as_not_found(moengage_emulator, users_parquet):
    spec = users_parquet(user_rows(30))
    with MoEngageClient(
        settings_for(moengage_emulator), transport=moengage_emulator.transport()
    ) as client:
        push_users(users_parquet(user_rows(25), "first-25.parquet"), client)
        report = reconcile_users(
            open_source(spec), USERS_MAPPING, client, sample_size=30, sync_name="users"
        )
    missing = sorted(m.customer_id for m in report.mismatches if m.reason == "user_not_found")
    assert missing == [f"user-{i}" for i in range(25, 30)]
    assert (report.users_found, report.users_not_found) == (25, 5)
    assert report.mismatches and all(m.attribute == "customer_id" for m in report.mismatches)


def test_get_user_keeps_to_1000_users_a_minute_on_the_fake_clock(
    moengage_emulator_factory, moengage_clock, users_parquet
):
    # Emulator, rate budget and retries share one fake clock: the waits take no wall time.
    emulator = moengage_emulator_factory(clock=moengage_clock)
    budget = RateBudget(
        MemoryBudgetStore(), namespace="reconcile", clock=moengage_clock, sleep=moengage_clock.sleep
    )
    retry = RetryConfig(clock=moengage_clock, sleep=moengage_clock.sleep)
    spec = users_parquet(user_rows(2_500))
    with MoEngageClient(
        settings_for(emulator), transport=emulator.transport(), budget=budget, retry=retry
    ) as client:
        push_users(spec, client)
        start = moengage_clock.now
        report = reconcile_users(
            open_source(spec), USERS_MAPPING, client, sample_size=2_500, sync_name="users"
        )
        assert client.stats.http_429 == 0
    assert (report.users_found, report.requests, report.mismatches) == (2_500, 125, [])
    # 2,500 users at 1,000 a minute: the last 500 cannot go before 1.5 minutes have passed.
    assert moengage_clock.now - start >= 90
    usage = emulator.inspect.rate_usage()[f"{emulator.settings.workspace_id}/customers_export/60s"]
    assert usage["max_requested"] <= 1_000 and usage["refused_requests"] == 0


def test_the_api_key_never_reaches_the_table_the_logs_or_the_errors(
    moengage_emulator_factory, users_parquet, tmp_path, caplog
):
    emulator = moengage_emulator_factory(data_api_key=SECRET_KEY)
    spec = users_parquet(user_rows(40))
    caplog.set_level(logging.DEBUG)
    with (
        MoEngageClient(settings_for(emulator), transport=emulator.transport()) as client,
        Warehouse.open(f"duckdb:///{tmp_path / 'results.duckdb'}") as results,
    ):
        push_users(spec, client)
        emulator.inspect.set_user_attributes("user-1", {"plan": SECRET_KEY[:4]})
        report = reconcile_users(
            open_source(spec), USERS_MAPPING, client, sample_size=40, sync_name="users",
            results=results,
        )  # fmt: skip
        assert report.rows_recorded == 1
        table_text = str(results.query(f"SELECT * FROM {RECONCILIATION_TABLE}").to_pylist())
    wrong = settings_for(emulator, data_api_key=SECRET_KEY + "-old")
    with (
        MoEngageClient(wrong, transport=emulator.transport()) as client,
        pytest.raises(AuthError) as refused,
    ):
        reconcile_users(open_source(spec), USERS_MAPPING, client, sample_size=5, sync_name="u")
    for text in (table_text, caplog.text, str(refused.value), repr(refused.value)):
        assert SECRET_KEY not in text
    assert "reconciled users: 40 users sampled" in caplog.text


def test_only_users_mappings_and_positive_samples(moengage_emulator, users_parquet):
    spec = users_parquet(user_rows(3))
    events = {"entity": "events", "customer_id": "uid", "event_name": "Signup"}
    with MoEngageClient(
        settings_for(moengage_emulator), transport=moengage_emulator.transport()
    ) as client:
        with pytest.raises(ConfigError, match="maps events"):
            reconcile_users(open_source(spec), events, client, sample_size=3, sync_name="e")
        with pytest.raises(ConfigError, match="at least 1 user"):
            reconcile_users(open_source(spec), USERS_MAPPING, client, sample_size=0, sync_name="u")
        with pytest.raises(ValueError, match="1 to 20 users"):
            client.get_users([f"u{i}" for i in range(21)])
    assert moengage_emulator.inspect.counters().get("customers_export", {}).get("requests", 0) == 0


@pytest.fixture(params=["duckdb", "postgres"])
def results_url(request, tmp_path):
    """A results warehouse: a DuckDB file or a fresh PostgreSQL schema."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path / 'results.duckdb'}"
        return
    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"reconcile_{uuid.uuid4().hex[:12]}"
    try:
        yield f"{dsn}?schema={schema}"
    finally:
        with Warehouse.open(dsn) as warehouse:
            warehouse.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_mismatches_of_each_run_are_kept_apart_in_the_results_warehouse(
    moengage_emulator, users_parquet, results_url
):
    spec = users_parquet(user_rows(20))
    with (
        MoEngageClient(
            settings_for(moengage_emulator), transport=moengage_emulator.transport()
        ) as client,
        Warehouse.open(results_url) as results,
    ):
        push_users(spec, client)
        moengage_emulator.inspect.set_user_attributes("user-2", {"tags": ["a", "t2", "extra"]})
        moengage_emulator.inspect.set_user_attributes("user-7", {"visits": "7"})
        runs = [
            reconcile_users(
                open_source(spec),
                USERS_MAPPING,
                client,
                sample_size=20,
                sync_name="users",
                results=results,
                run_id=run_id,
            )
            for run_id in ("run-a", "run-b")
        ]
        writer = ReconciliationWriter(results)
        for run in runs:
            rows = writer.mismatches(run.run_id)
            assert [(r["customer_id"], r["attribute"], r["sent"], r["found"]) for r in rows] == [
                ("user-2", "tags", '["a","t2"]', '["a","t2","extra"]'),
                # A number sent and a text held differ, although both read 7.
                ("user-7", "visits", "7", '"7"'),
            ]
        assert results.count(RECONCILIATION_TABLE) == 4


def test_get_user_failures_are_retried_and_an_echoed_key_is_scrubbed(
    moengage_emulator_factory, moengage_clock, users_parquet, caplog
):
    emulator = moengage_emulator_factory(clock=moengage_clock, data_api_key=SECRET_KEY)
    retry = RetryConfig(clock=moengage_clock, sleep=moengage_clock.sleep)
    spec = users_parquet(user_rows(40))
    caplog.set_level(logging.DEBUG)
    with MoEngageClient(settings_for(emulator), transport=emulator.transport(), retry=retry) as c:
        push_users(spec, c)
        # Two 500s, then an answer quoting the credentials back.
        emulator.faults.add(FaultRule(endpoint="customers_export", kind="error", count=2))
        emulator.faults.add(
            FaultRule(endpoint="customers_export", kind="echo_auth", status=502, after=2, count=8)
        )
        with pytest.raises(MoEngageHTTPError) as failed:
            reconcile_users(open_source(spec), USERS_MAPPING, c, sample_size=40, sync_name="u")
        assert c.stats.retries >= 2
        emulator.faults.clear()
        report = reconcile_users(
            open_source(spec), USERS_MAPPING, c, sample_size=40, sync_name="u"
        )
    assert report.ok and report.users_found == 40
    assert SECRET_KEY not in str(failed.value) and SECRET_KEY not in caplog.text
