"""Push metadata is typed per entity: only the keys that apply, rejects as a table."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from dagster_project.metadata import push_metadata
from dagster_project.sent_schema import sent_column_schema
from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.report import PushReport


def _report(entity: str, **figures: int) -> PushReport:
    report = PushReport(sync_name=f"moengage/{entity}", entity=entity, partition="2026-01-02")
    report.rows_read = 10
    report.rows_valid = 8
    report.rejected_by_rule = Counter({"future_event_time": 2})
    report.rows_rejected = 2
    for name, value in figures.items():
        setattr(report, name, value)
    return report


@pytest.mark.parametrize(
    ("entity", "sent", "absent"),
    [
        ("users", {"users_sent": 8}, {"events_sent", "items_sent", "items_updated"}),
        ("events", {"events_sent": 8}, {"users_sent", "items_sent", "items_deleted"}),
        ("catalog", {"items_sent": 8, "items_updated": 3},
         {"users_sent", "events_sent"}),
    ],
)
def test_each_entity_shows_only_its_own_sent_counts(entity, sent, absent) -> None:
    metadata = push_metadata(_report(entity, **sent))
    for name, value in sent.items():
        assert metadata[name] == value
    assert not absent & set(metadata)
    assert metadata["dagster/row_count"] == 8
    assert metadata["partition"] == "2026-01-02"


def test_rejects_by_rule_are_a_table_and_failures_show_only_when_there_are_some() -> None:
    metadata = push_metadata(_report("events", events_sent=8))
    records = metadata["rejected_by_rule"].records
    assert [(record.data["rule"], record.data["rows"]) for record in records] == [
        ("future_event_time", 2)
    ]
    assert "failed_bodies" not in metadata and "stop_reason" not in metadata
    failed = push_metadata(
        _report("events", events_sent=5, failed_bodies=1, failed_rows=3, stop_status=401,
                stop_reason="401 Authentication required")
    )
    assert failed["failed_rows"] == 3 and failed["stop_reason"].startswith("401")
    assert failed["dagster/row_count"] == 5


def test_row_count_includes_rows_sent_by_an_earlier_run() -> None:
    metadata = push_metadata(_report("users", users_sent=3, rows_skipped=5))
    assert metadata["dagster/row_count"] == 8


def test_the_column_schema_names_moengage_fields_and_resolves_auto_types() -> None:
    mapping = load_mapping({
        "entity": "events", "customer_id": "uid", "event_name": "Purchase",
        "event_time_column": "at", "platform": "web",
        "attributes": {"price": "amount", "sku": {"column": "sku", "type": "string"}},
    })
    source = pa.schema([("uid", pa.string()), ("at", pa.timestamp("us", "UTC")),
                        ("amount", pa.float64()), ("sku", pa.int64())])
    declared = {c.name: c.type for c in sent_column_schema(mapping).columns}
    resolved = {c.name: (c.type, c.description) for c in
                sent_column_schema(mapping, source).columns}
    assert declared["attributes.price"] == "auto"
    assert resolved["attributes.price"] == ("number", "from column amount")
    assert resolved["attributes.sku"][0] == "string"  # declared, not the column's int
    assert resolved["action"] == ("string", "constant: Purchase")
    assert resolved["current_time"][0] == "datetime"
    assert list(resolved)[:2] == ["customer_id", "action"]


def test_a_catalog_schema_lists_the_mandatory_attributes_and_calls_numbers_double() -> None:
    mapping = load_mapping({
        "entity": "catalog", "catalog": "products", "id_column": "sku", "title_column": "t",
        "link_column": "l", "image_link_column": "i", "attributes": {"price": "p"},
    })
    source = pa.schema([(name, pa.string()) for name in ("sku", "t", "l", "i")]
                       + [("p", pa.float64())])
    columns = {c.name: c.type for c in sent_column_schema(mapping, source).columns}
    assert columns == {"id": "string", "title": "string", "link": "string",
                       "image_link": "string", "price": "double"}
