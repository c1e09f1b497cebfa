"""Customer and item ids lose surrounding whitespace (``trim``) unless the mapping keeps it."""

from __future__ import annotations

import datetime as dt

import orjson
import pyarrow as pa
import pytest

from moengage_pipelines.push.catalog.state import MemoryCatalogState
from moengage_pipelines.push.mapping import load_mapping
from moengage_pipelines.push.pipeline import run_push
from moengage_pipelines.push.prepare.serializer import ElementSerializer

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
PADDED = [
    "user-1", " user-2", "user-3   ", "\tuser-4\r\n", "us er-5", "\u00e9l\u00e8ve ", " \u00e9\u00e9"
]


def _run(mapping: dict, columns: dict, *, with_keys: bool = False):
    with ElementSerializer(load_mapping(mapping), now=NOW, with_keys=with_keys) as serializer:
        result = serializer.serialize(pa.record_batch(columns))
    elements = [None if text is None else orjson.loads(text[:-1])
                for text in result.elements.to_pylist()]
    rejects = [(int(row), check.rule, check.column)
               for row, check in zip(result.rejected, result.rejected_checks, strict=True)]
    return elements, rejects, result.keys


@pytest.mark.parametrize("entity", ["users", "events"])
def test_ids_are_trimmed_by_default(entity):
    mapping = {"entity": entity, "customer_id": "cid"}
    if entity == "events":
        mapping["event_name"] = "Opened"
    elements, rejects, _ = _run(mapping, {"cid": PADDED})
    assert rejects == []
    assert [e["customer_id"] for e in elements] == [
        "user-1", "user-2", "user-3", "user-4", "us er-5", "\u00e9l\u00e8ve", "\u00e9\u00e9"]


def test_keep_sends_ids_as_they_are_but_checks_them_trimmed():
    mapping = {"entity": "users", "customer_id": "cid", "customer_id_whitespace": "keep"}
    elements, rejects, _ = _run(mapping, {"cid": [*PADDED, "  ", " guest ", " x "]})
    assert rejects == [(7, "missing_customer_id", "cid"), (8, "banned_customer_id", "cid"),
                       (9, "short_customer_id", "cid")]
    assert [e["customer_id"] for e in elements[:7]] == PADDED


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\r\n  \x0b\x0c"])
def test_an_id_empty_after_trimming_is_missing(blank):
    _, rejects, _ = _run({"entity": "users", "customer_id": "cid"}, {"cid": ["user-1", blank]})
    assert rejects == [(1, "missing_customer_id", "cid")]


def test_numeric_ids_are_unchanged():
    elements, rejects, _ = _run({"entity": "users", "customer_id": "cid"}, {"cid": [42, 1001]})
    assert rejects == []
    assert [e["customer_id"] for e in elements] == ["42", "1001"]


CATALOG = {"entity": "catalog", "catalog": "products", "id_column": "sku",
           "title_column": "title", "link_column": "link", "image_link_column": "image"}


def _items(skus: list[str | None]) -> dict:
    n = len(skus)
    return {"sku": skus, "title": ["T"] * n, "link": ["https://l"] * n, "image": ["https://i"] * n}


def test_item_ids_and_their_keys_are_trimmed():
    elements, rejects, keys = _run(CATALOG, _items([" sku-1", "sku-2\t", "\n"]), with_keys=True)
    assert rejects == [(2, "missing_item_id", "sku")]
    assert [e and e["id"] for e in elements] == ["sku-1", "sku-2", None]
    assert keys.to_pylist()[:2] == ["sku-1", "sku-2"]
    elements, _, keys = _run({**CATALOG, "id_whitespace": "keep"}, _items([" sku-1"]),
                             with_keys=True)
    assert elements[0]["id"] == " sku-1" and keys.to_pylist() == [" sku-1"]


def test_padded_ids_reach_the_emulator_as_one_user(parquet_source, client, moengage_emulator):
    rows = {"uid": ["cust-7", "cust-7   ", " cust-8"], "plan": ["free", "gold", "pro"]}
    report = run_push(parquet_source(rows),
                      {"entity": "users", "customer_id": "uid", "attributes": ["plan"]},
                      client, sync_name="users", ledger=None)
    assert report.users_sent == 3
    users = moengage_emulator.inspect.users()
    assert set(users) == {"cust-7", "cust-8"}
    assert users["cust-7"]["plan"] == "gold"  # the later row updated the same user


def test_padded_item_ids_are_one_item(parquet_source, client, dead_letters):
    report = run_push(parquet_source(_items(["sku-1", "sku-1 ", "sku-2"])), CATALOG, client,
                      sync_name="catalog", dead_letters=dead_letters, ledger=None,
                      catalog_state=MemoryCatalogState())
    assert report.items_sent == 2
    assert dict(report.rejected_by_rule) == {"duplicate_item_id": 1}
