"""Catalog API of the emulator: every documented limit, error and quirk."""

from __future__ import annotations

import re

import httpx
import orjson
import pytest

from moengage_pipelines.emulator import CatalogStore, Emulator, EmulatorSettings, RateLimit
from moengage_pipelines.emulator.catalog_rules import convert
from moengage_pipelines.emulator.clock import FakeClock
from tests.emulator.conftest import (
    BASE_URL,
    CAMPAIGN_KEY,
    DATA_KEY,
    WORKSPACE,
    campaign_client,
)

MANDATORY = [{"name": n, "type": "string"} for n in ("id", "title", "link", "image_link")]


def item(item_id: str, **extra) -> dict:
    return {
        "id": item_id,
        "title": f"Item {item_id}",
        "link": f"https://shop.example/{item_id}",
        "image_link": f"https://img.example/{item_id}.jpg",
        **extra,
    }


def create(client: httpx.Client, name: str = "shop", attributes=None, currency="USD"):
    return client.post(
        "/v1/catalog",
        json={
            "name": name,
            "price_currency": currency,
            "attributes": MANDATORY if attributes is None else attributes,
        },
    )


@pytest.fixture
def catalog_id(campaigns) -> str:
    answer = create(
        campaigns,
        attributes=[
            *MANDATORY,
            {"name": "price", "type": "double"},
            {"name": "in_stock", "type": "bool"},
            {"name": "sale_start_date", "type": "datetime"},
            {"name": "store_location", "type": "geopoint"},
            {"name": "description", "type": "string"},
        ],
    )
    assert answer.status_code == 201
    return answer.json()["catalog_id"]


def error_code(response: httpx.Response) -> str:
    return response.json()["error-code"]


# -- create --------------------------------------------------------------------------------------


def test_create_answers_201_with_a_24_hex_id_visible_in_inspection(moengage_emulator, campaigns):
    answer = create(campaigns, "summer")
    assert answer.status_code == 201
    catalog_id = answer.json()["catalog_id"]
    assert re.fullmatch(r"[0-9a-f]{24}", catalog_id)
    with httpx.Client(transport=moengage_emulator.transport(), base_url=BASE_URL) as plain:
        listed = plain.get("/_emulator/catalogs").json()
    assert [(c["catalog_id"], c["name"], c["items"]) for c in listed] == [(catalog_id, "summer", 0)]
    assert [a["name"] for a in listed[0]["attributes"]] == ["id", "title", "link", "image_link"]


def test_the_inspector_lists_catalogs_like_the_http_view(moengage_emulator, campaigns, catalog_id):
    added = campaigns.post(
        f"/v1/catalog/{catalog_id}/items", json={"items": [item("a"), item("b")]}
    )
    assert added.status_code == 200
    listed = moengage_emulator.inspect.catalogs()
    assert [(c["catalog_id"], c["name"], c["price_currency"], c["items"]) for c in listed] == [
        (catalog_id, "shop", "USD", 2)
    ]
    assert {"name": "price", "type": "double"} in listed[0]["attributes"]
    with httpx.Client(transport=moengage_emulator.transport(), base_url=BASE_URL) as plain:
        assert plain.get("/_emulator/catalogs").json() == listed
    assert moengage_emulator.inspect.catalogs("ANOTHER_WORKSPACE") == []


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"name": "x", "attributes": MANDATORY}, "price_currency is mandatory"),
        ({"name": "x", "price_currency": "XYZ", "attributes": MANDATORY}, "ISO 4217"),
        ({"name": "x", "price_currency": "usd", "attributes": MANDATORY}, "ISO 4217"),
        ({"price_currency": "USD", "attributes": MANDATORY}, "name is mandatory"),
        ({"name": "x", "price_currency": "USD"}, "attributes must be"),
        ({"name": "x", "price_currency": "USD", "attributes": [{"name": "id"}]}, "a name and"),
    ],
)
def test_create_validates_name_currency_and_attributes(campaigns, document, fragment):
    answer = campaigns.post("/v1/catalog", json=document)
    assert answer.status_code == 400
    assert error_code(answer) == "invalid-request"
    assert fragment in answer.json()["message"]


def test_every_listed_currency_is_accepted(campaigns):
    for number, currency in enumerate(("INR", "EUR", "ZMK", "VEF")):
        assert create(campaigns, f"c{number}", currency=currency).status_code == 201


def test_invalid_attribute_type_lists_the_valid_types(campaigns):
    answer = create(campaigns, attributes=[*MANDATORY, {"name": "tags", "type": "list"}])
    assert answer.status_code == 400
    assert error_code(answer) == "invalid-request"
    message = answer.json()["message"]
    assert "Provided value: list" in message
    assert "[bool, double, string, datetime, geopoint]" in message


def test_mandatory_attributes_must_be_present_and_strings(campaigns):
    attributes = [
        {"name": "id", "type": "string"},
        {"name": "title", "type": "string"},
        {"name": "link", "type": "double"},
    ]
    answer = create(campaigns, attributes=attributes)
    assert answer.status_code == 400
    assert error_code(answer) == "missing-mandatory-attributes"
    assert answer.json()["message"].endswith("Invalid or absent attributes: link, image_link")


def test_fifty_attributes_fit_and_fifty_one_do_not(campaigns):
    extra = [{"name": f"a{i}", "type": "string"} for i in range(46)]
    assert create(campaigns, "fifty", [*MANDATORY, *extra]).status_code == 201
    answer = create(campaigns, "fifty-one", [*MANDATORY, *extra, {"name": "z", "type": "bool"}])
    assert answer.status_code == 400
    assert error_code(answer) == "attribute-limit-exceeded"


def test_thirty_five_catalogs_per_workspace(moengage_emulator, campaigns):
    for number in range(35):
        assert create(campaigns, f"catalog-{number}").status_code == 201
    answer = create(campaigns, "one-too-many")
    assert answer.status_code == 400
    assert error_code(answer) == "catalog-limit-exceeded"
    assert len(CatalogStore(moengage_emulator.store).catalogs(WORKSPACE)) == 35


def test_a_duplicate_name_is_409(campaigns):
    assert create(campaigns, "shop").status_code == 201
    answer = create(campaigns, "shop")
    assert answer.status_code == 409
    assert error_code(answer) == "duplicate-catalog-name"
    assert create(campaigns, "Shop").status_code == 201  # names compare exactly


# -- attributes ----------------------------------------------------------------------------------


def test_add_attributes_is_202_and_lists_existing_ones(campaigns, catalog_id):
    answer = campaigns.patch(
        f"/v1/catalog/{catalog_id}/attributes",
        json={
            "attributes": [{"name": "color", "type": "string"}, {"name": "price", "type": "bool"}]
        },
    )
    assert answer.status_code == 202
    assert answer.json() == {"success": True, "duplicate-item-attributes": ["price"]}
    # The new attribute is usable at once; price kept its type (double).
    added = campaigns.post(
        f"/v1/catalog/{catalog_id}/items", json={"items": [item("p1", color="red", price=2.5)]}
    )
    assert added.json()["message"]["valid"]["count"] == 1
    wrong = campaigns.post(
        f"/v1/catalog/{catalog_id}/items", json={"items": [item("p2", price=True)]}
    )
    assert wrong.json()["message"]["invalid"]["details"][0]["error-id"] == (
        "invalid-datatype-attribute"
    )


def test_add_attributes_past_fifty_is_413_and_adds_nothing(
    moengage_emulator, campaigns, catalog_id
):
    # The fixture catalog has 9 attributes; 42 more make 51.
    more = [{"name": f"x{i}", "type": "string"} for i in range(42)]
    answer = campaigns.patch(f"/v1/catalog/{catalog_id}/attributes", json={"attributes": more})
    assert answer.status_code == 413
    assert answer.json() == {
        "error-code": "too-many-attributes",
        "message": "Maximum allowed attributes is 50",
    }
    assert len(CatalogStore(moengage_emulator.store).get(WORKSPACE, catalog_id).attributes) == 9
    fits = campaigns.patch(f"/v1/catalog/{catalog_id}/attributes", json={"attributes": more[:41]})
    assert fits.status_code == 202


def test_add_attributes_rejects_invalid_types(campaigns, catalog_id):
    answer = campaigns.patch(
        f"/v1/catalog/{catalog_id}/attributes", json={"attributes": [{"name": "x", "type": "int"}]}
    )
    assert answer.status_code == 400 and error_code(answer) == "invalid-request"


# -- items ---------------------------------------------------------------------------------------


def test_added_items_are_searchable_at_once(campaigns, catalog_id):
    added = campaigns.post(
        f"/v1/catalog/{catalog_id}/items",
        json={
            "items": [
                item(
                    "P001",
                    price=29.99,
                    in_stock=True,
                    sale_start_date="2025-08-27T19:26:38.00Z",
                    store_location="12.9716,77.5946",
                    description="A shirt",
                )
            ]
        },
    )
    assert added.status_code == 200
    assert added.json() == {
        "message": {"valid": {"count": 1}, "invalid": {"count": 0, "details": []}}
    }
    found = campaigns.post(f"/v1/catalog/{catalog_id}/items/search", json={"items": ["P001"]})
    assert found.status_code == 200
    [shown] = found.json()["items"]
    assert shown["catalog_id"] == catalog_id
    assert shown["product_id"] == "P001"
    assert shown["title"] == "Item P001" and shown["description"] == "A shirt"
    assert shown["price_currency"] == "USD"
    assert shown["price"] == 29.99 and shown["in_stock"] is True
    assert shown["sale_start_date"] == "2025-08-27T19:26:38.00Z"
    assert shown["store_location"] == "12.9716,77.5946"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\dZ", shown["creation_date"])
    assert shown["last_updated"] == shown["creation_date"]
    assert re.fullmatch(r"[0-9a-f]{24}", shown["feed_id"])


def test_add_items_reports_each_invalid_item_by_error_id(moengage_emulator, campaigns, catalog_id):
    campaigns.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("old")]})
    answer = campaigns.post(
        f"/v1/catalog/{catalog_id}/items",
        json={
            "items": [
                item("ok1", price=1),
                item("old"),  # already in the catalog
                item("ok1"),  # repeated in the request
                {"id": "no-title", "link": "https://x", "image_link": "https://y"},
                item("bad-price", price="cheap"),
                item("bad-geo", store_location="200,10"),
                item("undefined", shipping_price=3),
                item("ok2", price="4.5", in_stock="TRUE"),
            ]
        },
    )
    assert answer.status_code == 200
    message = answer.json()["message"]
    assert message["valid"] == {"count": 2}
    assert message["invalid"]["count"] == 6
    by_id = {
        (detail["error-id"], tuple(detail["document_ids"])): detail
        for detail in message["invalid"]["details"]
    }
    assert by_id[("duplicate-item-ids", ("old", "ok1"))]["count"] == 2
    assert ("missing-mandatory-attributes", ("no-title",)) in by_id
    assert ("invalid-datatype-attribute", ("bad-price",)) in by_id
    assert ("invalid-datatype-attribute", ("bad-geo",)) in by_id
    undefined = by_id[("invalid-item-attribute", ("undefined",))]
    assert undefined["message"].endswith("Undefined attributes: shipping_price")
    stored = CatalogStore(moengage_emulator.store).items(WORKSPACE, catalog_id)
    assert set(stored) == {"old", "ok1", "ok2"}
    assert stored["ok2"].attributes["price"] == 4.5 and stored["ok2"].attributes["in_stock"] is True
    reasons = [d["reason"] for d in moengage_emulator.inspect.dropped() if d["kind"] == "item"]
    assert len(reasons) == 6 and reasons[0].startswith("duplicate-item-ids")


@pytest.mark.parametrize("count", [0, 51])
def test_add_items_takes_one_to_fifty(campaigns, catalog_id, count):
    answer = campaigns.post(
        f"/v1/catalog/{catalog_id}/items", json={"items": [item(f"p{i}") for i in range(count)]}
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error-code": "invalid-request",
        "message": "items size should be greater than 0 and less than or equal to 50",
    }


def test_fifty_items_fit(moengage_emulator, campaigns, catalog_id):
    answer = campaigns.post(
        f"/v1/catalog/{catalog_id}/items", json={"items": [item(f"p{i}") for i in range(50)]}
    )
    assert answer.json()["message"]["valid"]["count"] == 50
    assert CatalogStore(moengage_emulator.store).item_count(WORKSPACE, catalog_id) == 50


def test_update_items_counts_unknown_ids_and_undefined_attributes_as_invalid(
    moengage_clock, campaigns, catalog_id
):
    campaigns.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("p1", price=1.0)]})
    answer = campaigns.patch(
        f"/v1/catalog/{catalog_id}/items",
        json={
            "items": [
                {"id": "p1", "attributes": {"price": 98, "title": "New"}},
                {"id": "ghost", "attributes": {"price": 1}},
                {"id": "p1", "attributes": {"shipping_city": "Pune"}},
                {"id": "p1", "attributes": {"price": "free"}},
                {"id": "p1", "attributes": {"id": "p2"}},
            ]
        },
    )
    assert answer.status_code == 200
    message = answer.json()["message"]
    assert message["valid"] == {"count": 1} and message["invalid"]["count"] == 4
    details = {d["message"]: d for d in message["invalid"]["details"]}
    assert (
        details[
            "Item with id ghost not found in the catalog. Please check the item id and try again."
        ]["error-id"]
        == "item-not-found"
    )
    undefined = details[
        "Some of the attributes are not defined in the catalog schema: (shipping_city)"
    ]
    assert undefined["error-id"] == "invalid-attributes" and undefined["document_ids"] == ["p1"]
    assert all(
        d["error-id"] == "invalid-attributes"
        for m, d in details.items()
        if "price" in m or "primary key" in m
    )
    [found] = campaigns.post(
        f"/v1/catalog/{catalog_id}/items/search", json={"items": ["p1"]}
    ).json()["items"]
    assert (found["title"], found["price"], found["link"]) == (
        "New",
        98.0,
        "https://shop.example/p1",
    )


def test_update_refreshes_last_updated(moengage_emulator_factory):
    clock = FakeClock()
    emulator = moengage_emulator_factory(clock=clock)
    with campaign_client(emulator) as client:
        catalog_id = create(client).json()["catalog_id"]
        client.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("p1")]})
        clock.advance(90)
        client.patch(
            f"/v1/catalog/{catalog_id}/items", json={"items": [{"id": "p1", "attributes": {}}]}
        )
        [found] = client.post(
            f"/v1/catalog/{catalog_id}/items/search", json={"items": ["p1"]}
        ).json()["items"]
    assert found["creation_date"] == "2023-11-14T22:13:20.00Z"
    assert found["last_updated"] == "2023-11-14T22:14:50.00Z"


def test_update_items_needs_id_and_attributes(campaigns, catalog_id):
    answer = campaigns.patch(f"/v1/catalog/{catalog_id}/items", json={"items": [{"id": "p1"}]})
    assert answer.status_code == 400 and error_code(answer) == "invalid-request"


@pytest.mark.parametrize("ids", [[], [f"p{i}" for i in range(51)]])
def test_search_takes_one_to_fifty_ids(campaigns, catalog_id, ids):
    answer = campaigns.post(f"/v1/catalog/{catalog_id}/items/search", json={"items": ids})
    assert answer.status_code == 400
    assert answer.json() == {
        "error-code": "invalid-request",
        "message": "Item count should be greater than 0 and less than or equal to 50",
    }


def test_search_omits_unknown_ids_and_keeps_request_order(campaigns, catalog_id):
    campaigns.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("a"), item("b")]})
    answer = campaigns.post(
        f"/v1/catalog/{catalog_id}/items/search", json={"items": ["b", "nope", "a", "b"]}
    )
    assert [i["product_id"] for i in answer.json()["items"]] == ["b", "a"]


def test_bulk_delete_is_202_and_counts_missing_ids_as_invalid(
    moengage_emulator, campaigns, catalog_id
):
    campaigns.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("a"), item("b")]})
    answer = campaigns.post(
        f"/v1/catalog/{catalog_id}/items/bulk-delete", json={"items": ["a", "ghost", "a"]}
    )
    assert answer.status_code == 202
    assert answer.json() == {"message": {"valid": {"count": 1}, "invalid": {"count": 2}}}
    assert set(CatalogStore(moengage_emulator.store).items(WORKSPACE, catalog_id)) == {"b"}
    too_many = campaigns.post(
        f"/v1/catalog/{catalog_id}/items/bulk-delete", json={"items": ["x"] * 51}
    )
    assert too_many.status_code == 400 and error_code(too_many) == "invalid-request"


@pytest.mark.parametrize(
    ("method", "suffix", "document"),
    [
        ("PATCH", "/attributes", {"attributes": [{"name": "c", "type": "string"}]}),
        ("POST", "/items", {"items": [item("p")]}),
        ("PATCH", "/items", {"items": [{"id": "p", "attributes": {}}]}),
        ("POST", "/items/search", {"items": ["p"]}),
        ("POST", "/items/bulk-delete", {"items": ["p"]}),
    ],
)
def test_unknown_catalog_is_404_catalog_not_found(campaigns, method, suffix, document):
    answer = campaigns.request(method, f"/v1/catalog/{'0' * 24}{suffix}", json=document)
    assert answer.status_code == 404
    assert answer.json() == {
        "error-code": "catalog-not-found",
        "message": "We could not find any API based catalog for the provided catalog id.",
    }


def test_catalogs_belong_to_their_workspace(moengage_emulator_factory):
    from moengage_pipelines.emulator import WorkspaceKeys

    emulator = moengage_emulator_factory(extra_workspaces={"OTHER": WorkspaceKeys("d2", "c2")})
    with campaign_client(emulator) as mine:
        catalog_id = create(mine).json()["catalog_id"]
    with httpx.Client(
        transport=emulator.transport(),
        base_url=BASE_URL,
        auth=("OTHER", "c2"),
        headers={"MOE-APPKEY": "OTHER"},
    ) as theirs:
        answer = theirs.post(f"/v1/catalog/{catalog_id}/items/search", json={"items": ["p"]})
        assert answer.status_code == 404
        assert create(theirs).status_code == 201  # the same name is free in another workspace


# -- request-level rules -------------------------------------------------------------------------


def test_auth_errors_use_the_catalog_envelope(moengage_emulator):
    def post(**kw) -> httpx.Response:
        with httpx.Client(
            transport=moengage_emulator.transport(), base_url=BASE_URL, **kw
        ) as client:
            return client.post("/v1/catalog", json={"name": "x"})

    missing = post()
    assert missing.status_code == 401 and error_code(missing) == "request-unauthenticated"
    no_appkey = post(auth=(WORKSPACE, CAMPAIGN_KEY))
    assert no_appkey.status_code == 401 and error_code(no_appkey) == "request-unauthenticated"
    data_key = post(auth=(WORKSPACE, DATA_KEY), headers={"MOE-APPKEY": WORKSPACE})
    assert data_key.status_code == 403 and error_code(data_key) == "request-denied"
    assert CatalogStore(moengage_emulator.store).catalogs(WORKSPACE) == []


def test_content_type_and_json_errors(campaigns):
    missing = campaigns.post("/v1/catalog", content=b"{}", headers={"Content-Type": ""})
    assert missing.status_code == 400 and error_code(missing) == "invalid-request"
    wrong = campaigns.post("/v1/catalog", content=b"{}", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    broken = campaigns.post(
        "/v1/catalog", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and error_code(broken) == "invalid-request"


def _large_items_body(catalog_id: str) -> bytes:
    # 50 items of ~105 KB each: just over 5 MB.
    items = [item(f"p{i}", description="x" * 105_000) for i in range(50)]
    body = orjson.dumps({"items": items})
    assert len(body) > 5 * 1024 * 1024
    return body


def test_five_megabytes_with_content_length_is_413(moengage_emulator, campaigns, catalog_id):
    body = _large_items_body(catalog_id)
    answer = campaigns.post(
        f"/v1/catalog/{catalog_id}/items",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert error_code(answer) == "payload-size-exceeded"
    assert CatalogStore(moengage_emulator.store).item_count(WORKSPACE, catalog_id) == 0


def test_five_megabytes_without_content_length_is_accepted(
    moengage_emulator, campaigns, catalog_id
):
    body = _large_items_body(catalog_id)

    def chunks():
        for start in range(0, len(body), 1 << 20):
            yield body[start : start + (1 << 20)]

    request = campaigns.build_request(
        "POST",
        f"/v1/catalog/{catalog_id}/items",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in request.headers
    answer = campaigns.send(request)
    assert answer.status_code == 200
    assert CatalogStore(moengage_emulator.store).item_count(WORKSPACE, catalog_id) == 50


def test_rate_limit_is_one_pool_for_all_six_endpoints(moengage_emulator_factory):
    emulator = moengage_emulator_factory(
        rate_limits={"catalog": (RateLimit(4, 60), RateLimit(1000, 3600))}
    )
    with campaign_client(emulator) as client:
        catalog_id = create(client).json()["catalog_id"]
        client.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("p")]})
        client.post(f"/v1/catalog/{catalog_id}/items/search", json={"items": ["p"]})
        last = client.post(f"/v1/catalog/{catalog_id}/items/bulk-delete", json={"items": ["p"]})
        assert last.status_code == 202
        assert last.headers["x-ratelimit-remaining"] == "0"
        refused = client.patch(
            f"/v1/catalog/{catalog_id}/attributes",
            json={"attributes": [{"name": "c", "type": "string"}]},
        )
    assert refused.status_code == 429
    assert error_code(refused) == "rate-limit-exceeded"
    assert refused.headers["x-ratelimit-limit"] == "4"
    assert "color" not in CatalogStore(emulator.store).get(WORKSPACE, catalog_id).attributes


def test_default_limits_are_100_a_minute_and_1000_an_hour(moengage_emulator_factory):
    clock = FakeClock(start=3600 * 472_223)  # the start of an hour (and of a minute)
    emulator = moengage_emulator_factory(clock=clock)
    statuses: list[int] = []
    with campaign_client(emulator) as client:
        for _minute in range(11):
            for _ in range(101):
                answer = client.post(f"/v1/catalog/{'0' * 24}/items/search", json={"items": ["p"]})
                statuses.append(answer.status_code)
            clock.advance(60)
    per_minute = [statuses[m * 101 : (m + 1) * 101] for m in range(11)]
    for minute in range(10):
        assert per_minute[minute].count(404) == 100 and per_minute[minute][-1] == 429
    # After 1,000 requests in the hour, the 11th minute is refused outright.
    assert set(per_minute[10]) == {429}


# -- inspection and persistence ------------------------------------------------------------------


def test_inspection_routes_show_items_and_reset_clears_catalogs(
    moengage_emulator, campaigns, catalog_id
):
    campaigns.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("a", price=2)]})
    with httpx.Client(transport=moengage_emulator.transport(), base_url=BASE_URL) as plain:
        detail = plain.get(f"/_emulator/catalogs/{catalog_id}").json()
        raw = plain.get(f"/_emulator/catalogs/{catalog_id}/items").json()
        assert plain.get(f"/_emulator/catalogs/{'f' * 24}").status_code == 404
        assert plain.post("/_emulator/reset").status_code == 200
        assert plain.get("/_emulator/catalogs").json() == []
    assert [i["product_id"] for i in detail["items"]] == ["a"]
    assert raw == {"a": {**item("a"), "price": 2.0}}


def test_catalogs_survive_a_restart_with_a_file_database(tmp_path):
    database = str(tmp_path / "state.sqlite")
    with Emulator(EmulatorSettings(database=database)) as first, campaign_client(first) as client:
        catalog_id = create(client).json()["catalog_id"]
        client.post(f"/v1/catalog/{catalog_id}/items", json={"items": [item("a")]})
    with Emulator(EmulatorSettings(database=database)) as second, campaign_client(second) as client:
        found = client.post(f"/v1/catalog/{catalog_id}/items/search", json={"items": ["a"]})
    assert [i["product_id"] for i in found.json()["items"]] == ["a"]


# -- value conversion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("abc", "string", "abc"),
        (5, "string", "5"),
        (True, "string", None),
        (None, "string", None),
        (2, "double", 2.0),
        ("19.99", "double", 19.99),
        ("1e3", "double", 1000.0),
        (False, "double", None),
        ("NaN", "double", None),
        (True, "bool", True),
        ("false", "bool", False),
        (1, "bool", None),
        ("2025-08-27T19:26:38.00Z", "datetime", "2025-08-27T19:26:38.00Z"),
        ("2025-08-27T19:26:38+05:30", "datetime", "2025-08-27T19:26:38+05:30"),
        ("2025-08-27", "datetime", None),
        ("2025-08-27T19:26:38", "datetime", None),
        ("2025-13-27T19:26:38Z", "datetime", None),
        ("12.9716,77.5946", "geopoint", "12.9716,77.5946"),
        ("-91,0", "geopoint", None),
        ([12.9, 77.5], "geopoint", None),
        ({"lat": 1}, "string", None),
    ],
)
def test_value_conversion_rules(value, kind, expected):
    ok, converted = convert(value, kind)
    assert ok is (expected is not None)
    assert converted == expected


def test_concurrent_writers_cannot_both_win(moengage_emulator):
    from concurrent.futures import ThreadPoolExecutor

    with campaign_client(moengage_emulator) as client:
        catalog_id = create(client).json()["catalog_id"]
        items = [item(f"p{i}") for i in range(10)]

        def add(_: int) -> int:
            answer = client.post(f"/v1/catalog/{catalog_id}/items", json={"items": items})
            return answer.json()["message"]["valid"]["count"]

        def new_catalog(number: int) -> int:
            return create(client, f"race-{number % 20}").status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            valid = list(pool.map(add, range(8)))
            statuses = list(pool.map(new_catalog, range(40)))
    assert sum(valid) == 10  # each item added exactly once
    assert statuses.count(201) == 20 and statuses.count(409) == 20
    with campaign_client(moengage_emulator) as client:
        more = [create(client, f"extra-{n}").status_code for n in range(16)]
    assert more.count(201) == 14 and more.count(400) == 2  # 1 + 20 + 14 = 35
