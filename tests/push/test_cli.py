"""``moengage-pipelines push``: dry runs, real pushes to the emulator's server, progress, ledger."""

from __future__ import annotations

import uuid

import orjson
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from moengage_pipelines.cli import main
from moengage_pipelines.warehouse import Warehouse
from tests.push.cli_data import ROWS

USERS_MAPPING = """
entity: users
customer_id: uid
first_name: name
attributes:
  plan: plan
"""

CATALOG_MAPPING = """
entity: catalog
catalog: cli-products
price_currency: EUR
id_column: sku
title_column: title
link_column: url
image_link_column: img
attributes:
  price: price
"""

def _expected_elements() -> list[bytes]:
    """MoEngage's event elements for the valid rows, written independently of the library."""
    return [
        orjson.dumps(
            {
                "type": "event",
                "customer_id": uid,
                "actions": [
                    {
                        "action": "Purchase",
                        "attributes": {"price": price},
                        "current_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ],
            }
        )
        for uid, at, price in ROWS
        if uid != "null"
    ]


def _greedy_bodies(elements: list[bytes], limit: int) -> list[int]:
    """Sizes of ``{"type":"transition","elements":[...]}`` bodies filled greedily up to limit."""
    prefix, suffix = b'{"type":"transition","elements":[', b"]}"
    sizes: list[int] = []
    current: list[bytes] = []
    for element in elements:
        candidate = [*current, element]
        if current and len(prefix + b",".join(candidate) + suffix) > limit:
            sizes.append(len(prefix + b",".join(current) + suffix))
            candidate = [element]
        current = candidate
    sizes.append(len(prefix + b",".join(current) + suffix))
    return sizes


@pytest.mark.parametrize("limit", [100_000, 300])
def test_dry_run_prints_totals_bytes_and_bodies(files, capsys, monkeypatch, limit):
    monkeypatch.delenv("MOENGAGE_WORKSPACE_ID", raising=False)
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run", "--max-body-bytes", str(limit)])
    out = capsys.readouterr().out
    bodies = _greedy_bodies(_expected_elements(), limit)
    assert code == 0
    assert "rows read:     4" in out
    assert "rows valid:    3" in out
    assert "rows rejected: 1" in out
    assert "banned_customer_id: 1" in out
    assert "events packed (dry run): 3" in out
    assert f"bodies:        {len(bodies)} (ideal " in out
    assert f"limit {limit:,} bytes" in out
    assert f"bytes:         {sum(bodies):,}" in out
    assert "retries" not in out  # nothing was sent
    assert "rows read," not in out  # no progress display when stdout is not a terminal


def test_day_window_and_dead_letters(files, capsys, tmp_path):
    source, mapping = files
    results = tmp_path / "results.duckdb"
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run", "--day", "2025-05-01", "--time-column", "at",
                 "--dead-letters", f"duckdb:///{results}", "--sync-name", "cli-test"])
    assert code == 0
    assert "rows read:     3" in capsys.readouterr().out
    from moengage_pipelines.push.dead_letters import DeadLetterWriter

    with Warehouse.open(f"duckdb:///{results}") as warehouse:
        assert DeadLetterWriter(warehouse).count("cli-test") == 1
        [letter] = DeadLetterWriter(warehouse).read("cli-test").to_pylist()
        # a dry run reads the ledger (the same warehouse by default) and never writes to it
        assert not warehouse.table_exists("moengage_push_ledger")
    assert letter["partition"] == "2025-05-01"


def test_entity_must_match_the_mapping(files, capsys):
    source, mapping = files
    code = main(["push", "users", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run"])
    assert code == 2
    assert "maps events, not users" in capsys.readouterr().err


def test_window_needs_a_time_column(files, capsys):
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run", "--day", "2025-05-01"])
    assert code == 2
    assert "--time-column" in capsys.readouterr().err


def test_resend_needs_the_delivery_state(files, capsys):
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--dry-run", "--no-state", "--resend", "always"])
    assert code == 2
    assert "--resend needs the delivery state" in capsys.readouterr().err
    from moengage_pipelines.cli.push import RESEND_CHOICES
    from moengage_pipelines.push.ledger import RESEND_POLICIES

    assert RESEND_CHOICES == RESEND_POLICIES  # --help spells them out without the import


def test_real_push_to_the_emulator_server(files, capsys, server_env):
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--max-body-bytes", "300"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "events sent: 3" in out
    assert f"bodies:        {len(_greedy_bodies(_expected_elements(), 300))} " in out
    assert "retries:       0 (0 x 429)" in out
    received = server_env.inspect.events()
    assert sorted(event["customer_id"] for event in received) == ["user-1", "user-3", "user-4"]
    assert "test-data-key" not in out


def test_progress_display_on_a_terminal(files, capsys, monkeypatch, server_env):
    # Rich treats stdout as a terminal when TTY_COMPATIBLE=1, as it would on a real one.
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    source, mapping = files
    code = main(["push", "events", "--source", str(source), "--mapping", str(mapping),
                 "--max-body-bytes", "300"])
    out = capsys.readouterr().out
    assert code == 0, out
    # The live line was drawn (cursor hidden, then shown again) with the final counts ...
    bodies = len(_greedy_bodies(_expected_elements(), 300))
    assert "\x1b[?25l" in out and "\x1b[?25h" in out
    assert f"4 rows read, 3 valid, 1 rejected, {bodies} bodies sent" in out
    # ... then erased (transient), and the totals printed after it.
    totals = out.rindex("rows read:     4")
    assert out.rindex("4 rows read, 3 valid") < totals
    assert "events sent: 3" in out[totals:]
    assert len(server_env.inspect.events()) == 3


def test_push_users_through_the_cli(tmp_path, capsys, server_env):
    source = tmp_path / "users.parquet"
    pq.write_table(
        pa.table({"uid": ["u-1", "u-2", ""], "name": ["Ann", "Bo", "Cy"],
                  "plan": ["gold", "free", "free"]}),
        source,
    )
    mapping = tmp_path / "users.yml"
    mapping.write_text(USERS_MAPPING)
    code = main(["push", "users", "--source", str(source), "--mapping", str(mapping)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "users sent: 2" in out and "rows rejected: 1" in out
    users = server_env.inspect.users()
    assert set(users) == {"u-1", "u-2"}
    assert users["u-1"]["plan"] == "gold"
    assert users["u-2"]["first_name"] == "Bo"


def test_push_catalog_through_the_cli(tmp_path, capsys, server_env):
    skus = [f"sku-{i}" for i in range(60)]
    source = tmp_path / "items.parquet"
    pq.write_table(
        pa.table({
            "sku": skus,
            "title": [f"Item {sku}" for sku in skus],
            "url": [f"https://shop.example/{sku}" for sku in skus],
            "img": [f"https://shop.example/{sku}.png" for sku in skus],
            "price": [float(i) for i in range(60)],
        }),
        source,
    )
    mapping = tmp_path / "catalog.yml"
    mapping.write_text(CATALOG_MAPPING)
    results = f"duckdb:///{tmp_path / 'results.duckdb'}"
    command = ["push", "catalog", "--source", str(source), "--mapping", str(mapping),
               "--dead-letters", results]
    code = main(command)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "catalog sent: 60" in out
    assert "bodies:        2 " in out  # 50 items at most per request
    [catalog] = server_env.inspect.catalogs()
    assert (catalog["name"], catalog["items"]) == ("cli-products", 60)

    # The catalog's id was remembered next to the dead letters: a second run finds it, and
    # the diff sync leaves the unchanged items out.
    requests = server_env.inspect.counters()["total"]["requests"]
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "diff:          0 new, 0 changed, 60 unchanged (not sent)" in out
    assert server_env.inspect.counters()["total"]["requests"] == requests
    assert len(server_env.inspect.catalogs()) == 1


def test_a_cli_rerun_sends_nothing_new(files, capsys, tmp_path, server_env):
    source, mapping = files
    results = f"duckdb:///{tmp_path / 'results.duckdb'}"
    command = ["push", "events", "--source", str(source), "--mapping", str(mapping),
               "--day", "2025-05-01", "--time-column", "at", "--dead-letters", results]
    assert main(command) == 0
    first = capsys.readouterr().out
    assert "events sent: 2" in first and "rows skipped:  0 in 0 bodies" in first
    counters = server_env.inspect.counters()

    assert main(command) == 0
    again = capsys.readouterr().out
    assert "events sent: 0" in again
    assert "rows skipped:  2 in 1 bodies already accepted" in again
    assert server_env.inspect.counters() == counters  # not one request more
    assert len(server_env.inspect.events()) == 2

    # Another day is another partition: sent.
    other = [*command]
    other[other.index("2025-05-01")] = "2025-05-02"
    assert main(other) == 0
    assert "events sent: 1" in capsys.readouterr().out
    assert len(server_env.inspect.events()) == 3

    # A forced re-push resends the day.
    assert main([*command, "--resend", "always"]) == 0
    assert "events sent: 2" in capsys.readouterr().out
    assert len(server_env.inspect.events()) == 5


def test_the_state_can_live_in_its_own_warehouse(files, capsys, tmp_path, server_env):
    source, mapping = files
    ledger = tmp_path / "ledger.duckdb"
    command = ["push", "events", "--source", str(source), "--mapping", str(mapping),
               "--state", f"duckdb:///{ledger}"]
    assert main(command) == 0
    assert "events sent: 3" in capsys.readouterr().out
    assert main(command) == 0
    assert "rows skipped:  3 in 1 bodies" in capsys.readouterr().out
    assert len(server_env.inspect.events()) == 3
    with Warehouse.open(f"duckdb:///{ledger}") as warehouse:
        rows = warehouse.query("SELECT status, sync_name FROM moengage_push_ledger").to_pylist()
    assert {(row["status"], row["sync_name"]) for row in rows} >= {("sent", "cli/events")}


def _with_password(dsn: str, password: str, **query: str) -> str:
    """The test database's DSN with a password (trust auth ignores it) and query options."""
    user, rest = dsn.split("://", 1)[1].split("@", 1)
    options = "&".join(f"{key}={value}" for key, value in query.items())
    return f"postgresql://{user}:{password}@{rest}" + (f"?{options}" if options else "")


@pytest.mark.postgres
def test_cli_errors_never_show_a_warehouse_password(files, capsys, postgres_dsn):
    source, mapping = files
    secret = "Hunter2Secret"
    unreachable = "postgresql://etl:" + secret + "@127.0.0.1:1/test?connect_timeout=2"
    schema = f"cli_{uuid.uuid4().hex[:12]}"
    commands = {
        "a table missing from a Postgres source": [
            "push", "events", "--source", _with_password(postgres_dsn, secret, schema=schema),
            "--table", "nowhere", "--mapping", str(mapping), "--dry-run",
        ],
        "an unreachable dead-letter warehouse": [
            "push", "events", "--source", str(source), "--mapping", str(mapping), "--dry-run",
            "--dead-letters", unreachable,
        ],
        "an unreachable state": [
            "push", "events", "--source", str(source), "--mapping", str(mapping), "--dry-run",
            "--state", unreachable,
        ],
        "a misspelt option carrying the URL": [
            "push", "events", "--source", str(source), "--mapping", str(mapping), "--dry-run",
            "--ledger", unreachable,
        ],
        "an unsupported warehouse URL": [
            "push", "events", "--source", str(source), "--mapping", str(mapping), "--dry-run",
            "--dead-letters", f"mysql://etl:{secret}@db/x",
        ],
    }
    try:
        for situation, command in commands.items():
            code = main(command)
            captured = capsys.readouterr()
            assert code == 2, situation
            assert captured.err.startswith("error: "), situation
            assert secret not in captured.err + captured.out, situation
            assert "***" in captured.err, situation  # the URL is named, redacted
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
