"""Catalog pushes against the emulator: create, upsert, invalid items, mirror deletions."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from moengage_pipelines.push.catalog.state import MemoryCatalogState, WarehouseCatalogState
from moengage_pipelines.push.mapping import MappingError
from moengage_pipelines.push.options import PushOptions
from moengage_pipelines.push.pipeline import run_push

MAPPING = {
    "entity": "catalog", "catalog": "products", "price_currency": "EUR", "id_column": "sku",
    "title_column": "name", "link_column": "url", "image_link_column": "img",
    "attributes": {"price": "price", "in_stock": "in_stock", "added": "added",
                   "store": {"column": "store", "type": "geopoint"}},
}


def _items(skus: list[str], price: float = 9.5) -> dict:
    n = len(skus)
    return {
        "sku": skus,
        "name": [f"Item {s} ☕" for s in skus],
        "url": [f"https://shop.example/{s}" for s in skus],
        "img": [f"https://shop.example/{s}.png" for s in skus],
        "price": [price] * n,
        "in_stock": [True] * n,
        "added": pa.array([dt.datetime(2025, 1, 2, 3, 4, 5)] * n, pa.timestamp("ms")),
        "store": ["12.9716,77.5946"] * n,
    }


def _search(client, catalog_id: str, ids: list[str]) -> dict[str, dict]:
    found = {}
    for start in range(0, len(ids), 50):
        for item in client.search_catalog_items(catalog_id, ids[start : start + 50]):
            found[item["id"] if "id" in item else item.get("product_id")] = item
    return found


def test_create_push_and_upsert(parquet_source, client, dead_letters):
    state = MemoryCatalogState()
    skus = [f"sku-{i:03d}" for i in range(120)]
    report = run_push(parquet_source(_items(skus)), MAPPING, client, sync_name="catalog",
                      dead_letters=dead_letters, catalog_state=state)
    catalog_id = state.catalog_id("products")
    assert catalog_id
    assert report.items_sent == 120 and report.rows_rejected == 0
    assert report.bodies == 3  # 50 + 50 + 20 items
    found = _search(client, catalog_id, skus)
    assert set(found) == set(skus)
    assert found["sku-007"]["title"] == "Item sku-007 ☕"
    assert found["sku-007"]["price"] == 9.5

    # Second push: existing items are updated, new ones added.
    again = _items([*skus[:60], "sku-new"], price=12.0)
    report = run_push(parquet_source(again), MAPPING, client, sync_name="catalog",
                      dead_letters=dead_letters, catalog_state=state)
    assert report.items_updated == 60
    assert report.items_sent == 61
    assert report.rows_rejected == 0
    found = _search(client, catalog_id, ["sku-001", "sku-new", "sku-100"])
    assert found["sku-001"]["price"] == 12.0
    assert found["sku-new"]["price"] == 12.0
    assert found["sku-100"]["price"] == 9.5


def test_invalid_rows_and_duplicates_become_dead_letters(parquet_source, client, dead_letters):
    data = _items(["a-1", "a-2", "a-1", "a-4", "a-5"])
    data["store"] = ["1,2", "999,1", "1,2", "1,2", "1,2"]
    data["img"] = ["i", "i", "i", "", "i"]
    report = run_push(parquet_source(data), MAPPING, client, sync_name="cat",
                      dead_letters=dead_letters, catalog_state=MemoryCatalogState())
    assert dict(report.rejected_by_rule) == {
        "invalid_geopoint": 1, "missing_mandatory_attribute": 1, "duplicate_item_id": 1,
    }
    assert report.items_sent == 2
    assert report.rows_valid + report.rows_rejected == report.rows_read
    letters = {(r["row_number"], r["rule"]) for r in dead_letters.read("cat").to_pylist()}
    assert letters == {(1, "invalid_geopoint"), (2, "duplicate_item_id"),
                       (3, "missing_mandatory_attribute")}


def test_items_moengage_refuses_become_dead_letters(parquet_source, client, dead_letters):
    # The catalog already types "price" as a string; the mapping sends a double.
    catalog_id = client.create_catalog(
        "legacy", price_currency="USD",
        attributes=[{"name": n, "type": "string"} for n in ("id", "title", "link", "image_link")]
        + [{"name": "price", "type": "bool"}],
    )
    mapping = {**MAPPING, "catalog": "legacy", "catalog_id": catalog_id,
               "attributes": {"price": "price"}}
    report = run_push(parquet_source(_items(["b-1", "b-2"], price=3.25)), mapping, client,
                      sync_name="legacy", dead_letters=dead_letters)
    assert report.items_sent == 0
    assert report.items_invalid == 2
    assert report.rows_rejected == 2
    rules = {r["rule"] for r in dead_letters.read("legacy").to_pylist()}
    assert rules == {"catalog_invalid_datatype_attribute"}


def test_mirror_deletes_items_that_left_the_source(parquet_source, client, results):
    state = WarehouseCatalogState(results)
    mapping = {**MAPPING, "mirror": True}
    run_push(parquet_source(_items(["m-1", "m-2", "m-3"])), mapping, client, sync_name="m",
             catalog_state=state)
    catalog_id = state.catalog_id("products")
    assert state.item_ids(catalog_id) == {"m-1", "m-2", "m-3"}
    report = run_push(parquet_source(_items(["m-1", "m-3"])), mapping, client, sync_name="m",
                      catalog_state=state)
    assert report.items_deleted == 1
    assert set(_search(client, catalog_id, ["m-1", "m-2", "m-3"])) == {"m-1", "m-3"}
    assert state.item_ids(catalog_id) == {"m-1", "m-3"}


def test_mirror_needs_state_and_the_whole_source(parquet_source, client):
    from moengage_pipelines.sources import TimeWindow

    mapping = {**MAPPING, "mirror": True}
    with pytest.raises(MappingError, match="catalog state"):
        run_push(parquet_source(_items(["x-1"])), mapping, client, sync_name="m",
                 dead_letters=None, ledger=None)
    with pytest.raises(MappingError, match="whole source"):
        run_push(parquet_source(_items(["x-1"])), mapping, client, sync_name="m",
                 catalog_state=MemoryCatalogState(), window=TimeWindow.for_day("2025-01-01"))


def test_existing_catalog_without_known_id_is_a_clear_error(parquet_source, client):
    stateless = {"dead_letters": None, "ledger": None}
    run_push(parquet_source(_items(["c-1"])), MAPPING, client, sync_name="c", **stateless)
    with pytest.raises(MappingError, match="set catalog_id"):
        run_push(parquet_source(_items(["c-2"])), MAPPING, client, sync_name="c", **stateless)


def test_the_default_state_remembers_the_catalog_and_allows_mirroring(
    parquet_source, client, moengage_emulator
):
    mirror = {**MAPPING, "mirror": True}
    first = run_push(parquet_source(_items(["s-1", "s-2"])), mirror, client, sync_name="s")
    second = run_push(parquet_source(_items(["s-2"])), mirror, client, sync_name="s")
    assert first.items_sent == 2 and second.items_deleted == 1
    assert [c["name"] for c in moengage_emulator.inspect.catalogs()] == ["products"]


def test_catalog_dry_run_sends_nothing(parquet_source, client, moengage_emulator):
    report = run_push(parquet_source(_items(["d-1", "d-2"])), MAPPING, client, sync_name="d",
                      options=PushOptions(dry_run=True))
    assert report.items_sent == 2 and report.bodies == 1
    assert moengage_emulator.inspect.counters().get("total", {}).get("requests", 0) == 0


def test_catalog_id_is_remembered_next_to_the_dead_letters(parquet_source, client, dead_letters):
    """Without an explicit state, the results warehouse remembers the catalog's id."""
    first = run_push(parquet_source(_items(["r-1"])), MAPPING, client, sync_name="r",
                     dead_letters=dead_letters)
    second = run_push(parquet_source(_items(["r-1", "r-2"])), MAPPING, client, sync_name="r",
                      dead_letters=dead_letters)
    assert first.items_sent == 1
    # The delivery state diffs items: the unchanged r-1 is not sent again.
    assert (second.items_sent, second.items_updated, second.rows_unchanged) == (1, 0, 1)
    catalog_id = WarehouseCatalogState(dead_letters.warehouse).catalog_id("products")
    assert set(_search(client, catalog_id, ["r-1", "r-2"])) == {"r-1", "r-2"}


def _requests(emulator, endpoint: str) -> int:
    return emulator.inspect.counters().get(endpoint, {}).get("requests", 0)


def _attribute_types(emulator, name: str) -> dict[str, str]:
    [catalog] = [c for c in emulator.inspect.catalogs() if c["name"] == name]
    return {attribute["name"]: attribute["type"] for attribute in catalog["attributes"]}


def test_missing_attributes_are_added_to_an_existing_catalog(
    parquet_source, client, moengage_emulator, dead_letters
):
    narrow = {**MAPPING, "attributes": {"price": "price"}}
    run_push(parquet_source(_items(["n-1"])), narrow, client, sync_name="n",
             dead_letters=dead_letters)
    assert "in_stock" not in _attribute_types(moengage_emulator, "products")
    assert _requests(moengage_emulator, "catalog_attributes") == 0  # created with its attributes

    report = run_push(parquet_source(_items(["n-1", "n-2"])), MAPPING, client, sync_name="n",
                      dead_letters=dead_letters)
    assert report.items_sent == 2 and report.items_invalid == 0 and report.rows_rejected == 0
    types = _attribute_types(moengage_emulator, "products")
    assert {k: types[k] for k in ("price", "in_stock", "added", "store")} == {
        "price": "double", "in_stock": "bool", "added": "datetime", "store": "geopoint",
    }
    assert _requests(moengage_emulator, "catalog_attributes") == 1
    catalog_id = WarehouseCatalogState(dead_letters.warehouse).catalog_id("products")
    found = _search(client, catalog_id, ["n-1", "n-2"])
    assert found["n-1"]["in_stock"] is True and found["n-2"]["store"] == "12.9716,77.5946"

    # Every attribute is known now: the next push spends no request on attributes.
    run_push(parquet_source(_items(["n-3"])), MAPPING, client, sync_name="n",
             dead_letters=dead_letters)
    assert _requests(moengage_emulator, "catalog_attributes") == 1


def test_changing_an_attribute_type_is_a_clear_error_and_sends_nothing(
    parquet_source, client, moengage_emulator, dead_letters
):
    from moengage_pipelines.push.catalog.schema import CatalogAttributeTypeError

    run_push(parquet_source(_items(["t-1"])), MAPPING, client, sync_name="t",
             dead_letters=dead_letters)
    requests = _requests(moengage_emulator, "total")
    retyped = {**MAPPING, "attributes": {**MAPPING["attributes"],
                                         "price": {"column": "price", "type": "string"}}}
    for dry_run in (True, False):
        with pytest.raises(CatalogAttributeTypeError) as raised:
            run_push(parquet_source(_items(["t-1", "t-2"])), retyped, client, sync_name="t",
                     dead_letters=dead_letters, options=PushOptions(dry_run=dry_run))
        message = str(raised.value)
        assert "'price'" in message and "is double" in message and "gives string" in message
        assert "cannot change the type" in message
    # Nothing was sent: neither attributes nor items; the catalog keeps its type.
    assert _requests(moengage_emulator, "total") == requests
    assert _attribute_types(moengage_emulator, "products")["price"] == "double"
    assert isinstance(raised.value, MappingError)


def test_a_source_column_changing_type_is_caught_too(parquet_source, client, moengage_emulator):
    from moengage_pipelines.push.catalog.schema import CatalogAttributeTypeError

    state = MemoryCatalogState()
    run_push(parquet_source(_items(["s-1"])), MAPPING, client, sync_name="s",
             catalog_state=state)
    data = _items(["s-1"])
    data["in_stock"] = ["yes"]  # a text column now: inferred as string, the catalog has bool
    with pytest.raises(CatalogAttributeTypeError, match="'in_stock' \\(column 'in_stock'\\)"):
        run_push(parquet_source(data), MAPPING, client, sync_name="s", catalog_state=state)
    assert _requests(moengage_emulator, "catalog_items_add") == 1
