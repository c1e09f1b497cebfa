"""The push ledger on catalog pushes: unchanged bodies cost no request (100 a minute at most)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from moengage_pipelines.push.ledger import PushLedger
from moengage_pipelines.push.pipeline import run_push

MAPPING = {
    "entity": "catalog", "catalog": "products", "price_currency": "EUR", "id_column": "sku",
    "title_column": "name", "link_column": "url", "image_link_column": "img",
    "attributes": {"price": "price", "in_stock": "in_stock", "added": "added"},
}


def _items(skus: list[str], price: float = 9.5) -> dict:
    n = len(skus)
    return {
        "sku": skus,
        "name": [f"Item {sku}" for sku in skus],
        "url": [f"https://shop.example/{sku}" for sku in skus],
        "img": [f"https://shop.example/{sku}.png" for sku in skus],
        "price": [price] * n,
        "in_stock": [True] * n,
        "added": pa.array([dt.datetime(2025, 1, 2, 3, 4, 5)] * n, pa.timestamp("ms")),
    }


def _search(client, catalog_id: str, ids: list[str]) -> dict[str, dict]:
    found = client.search_catalog_items(catalog_id, ids)
    return {item.get("id", item.get("product_id")): item for item in found}


def _requests(emulator, endpoint: str) -> int:
    return emulator.inspect.counters().get(endpoint, {}).get("requests", 0)


def test_unchanged_catalog_items_are_left_out_and_changed_ones_upserted(
    parquet_source, client, moengage_emulator, results, dead_letters
):
    ledger = PushLedger(results)
    skus = [f"sku-{i:03d}" for i in range(120)]
    first = run_push(parquet_source(_items(skus)), MAPPING, client, sync_name="catalog",
                     dead_letters=dead_letters, ledger=ledger)
    assert first.bodies == 3 and first.items_sent == 120
    adds = _requests(moengage_emulator, "catalog_items_add")

    again = run_push(parquet_source(_items(skus)), MAPPING, client, sync_name="catalog",
                     dead_letters=dead_letters, ledger=ledger)
    assert (again.bodies, again.items_sent) == (0, 0)
    # Items are diffed: every unchanged item is left out before packing.
    assert again.rows_unchanged == 120 and again.bodies_skipped == 0
    assert _requests(moengage_emulator, "catalog_items_add") == adds

    # One item changes: it alone is sent, as an update.
    changed = _items(skus)
    changed["price"] = [99.0 if sku == "sku-070" else 9.5 for sku in skus]
    third = run_push(parquet_source(changed), MAPPING, client, sync_name="catalog",
                     dead_letters=dead_letters, ledger=ledger)
    assert third.bodies == 2 and third.items_updated == 1 and third.rows_unchanged == 119
    assert _requests(moengage_emulator, "catalog_items_add") == adds + 1
    catalog_id = ledger.read("catalog").column("destination")[0].as_py().rsplit("/", 1)[1]
    assert _search(client, catalog_id, ["sku-070"])["sku-070"]["price"] == 99.0

    # The update succeeded, so the body counts as sent.
    fourth = run_push(parquet_source(changed), MAPPING, client, sync_name="catalog",
                      dead_letters=dead_letters, ledger=ledger)
    assert fourth.rows_unchanged == 120 and fourth.bodies == 0


def test_bodies_with_refused_items_are_sent_again_so_their_letters_stay(
    parquet_source, client, results, dead_letters
):
    # The catalog types "price" as bool; the mapping sends a double: MoEngage refuses both.
    catalog_id = client.create_catalog(
        "legacy", price_currency="USD",
        attributes=[{"name": n, "type": "string"} for n in ("id", "title", "link", "image_link")]
        + [{"name": "price", "type": "bool"}],
    )
    mapping = {**MAPPING, "catalog": "legacy", "catalog_id": catalog_id,
               "attributes": {"price": "price"}}
    ledger = PushLedger(results)
    source = parquet_source(_items(["b-1", "b-2"], price=3.25))
    for _ in range(2):
        report = run_push(source, mapping, client, sync_name="legacy",
                          dead_letters=dead_letters, ledger=ledger)
        assert report.bodies_skipped == 0 and report.items_invalid == 2
        assert dead_letters.count("legacy") == 2


def test_another_catalog_is_another_destination(parquet_source, client, results):
    ledger = PushLedger(results)
    source = parquet_source(_items(["k-1", "k-2"]))
    attributes = [{"name": n, "type": "string"} for n in ("id", "title", "link", "image_link")]
    attributes += [{"name": "price", "type": "double"}, {"name": "in_stock", "type": "bool"},
                   {"name": "added", "type": "datetime"}]
    reports = []
    for name in ("one", "two"):
        catalog_id = client.create_catalog(name, price_currency="EUR", attributes=attributes)
        mapping = {**MAPPING, "catalog": name, "catalog_id": catalog_id}
        reports.append(run_push(source, mapping, client, sync_name="catalog", ledger=ledger))
        assert set(_search(client, catalog_id, ["k-1", "k-2"])) == {"k-1", "k-2"}
    assert [report.items_sent for report in reports] == [2, 2]
    assert reports[1].bodies_skipped == 0
    assert pc.count_distinct(ledger.read().column("destination")).as_py() == 2
