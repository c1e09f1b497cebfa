"""Conformance cases: one request to the emulator each, with the status it must answer.

Success cases replay the request examples of the specs themselves (placeholders filled in);
error cases provoke every documented error status the emulator can produce for the operation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from moengage_pipelines.emulator import Emulator, EmulatorSettings, FaultRule, WorkspaceKeys
from moengage_pipelines.emulator.ratelimits import RateLimit
from moengage_pipelines.emulator.report_definitions import ReportBook, ReportDefinition, utc_day
from tests.emulator.conformance.openapi import Operation, spec_document

WORKSPACE = "TEST_WORKSPACE"
DATA_KEY = "test-data-key"
CAMPAIGN_KEY = "test-campaign-key"
HOST = "https://api-01.moengage.com"
MANDATORY = [{"name": n, "type": "string"} for n in ("id", "title", "link", "image_link")]
# Attributes the catalog examples of the spec use.
CATALOG_ATTRIBUTES = [
    *MANDATORY,
    {"name": "price", "type": "double"},
    {"name": "in_stock", "type": "bool"},
    {"name": "sale_start_date", "type": "datetime"},
    {"name": "store_location", "type": "geopoint"},
    {"name": "attribute_name", "type": "string"},
]
EXAMPLE_ITEMS = ("P001", "P002", "P003", "P004", "Existing_item_ID", "test2", "item_id_123")
# Request examples of the specs that do not validate against their own schema: the request
# is still sent (the emulator must accept it) but not validated. Each entry names the error
# the example shows, and a test checks the example still shows it.
EXAMPLES_BREAKING_THEIR_SCHEMA = {
    "data /event/{Workspace_ID} example 'Standard Example'": "'Android' is not one of",
    "data /event/{Workspace_ID} example 'Using User Identifiers'": (
        "'customer_id' is a required property"
    ),
    "data /transition/{Workspace_ID} example 'Standard Example'": (
        "'{{platform_bulk1}}' is not one of"
    ),
    "data /transition/{Workspace_ID} example 'Properties as Array'": "'Windows' is not one of",
    "data /transition/{Workspace_ID} example 'Using User Identifiers'": (
        "'customer_id' is a required property"
    ),
}


class Harness:
    """A fresh emulator and clients for one case."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.data = self._client(auth=(WORKSPACE, DATA_KEY))
        self.campaign = self._client(
            auth=(WORKSPACE, CAMPAIGN_KEY), headers={"MOE-APPKEY": WORKSPACE}
        )
        self.plain = self._client()

    def _client(self, **kw: Any) -> httpx.Client:
        return httpx.Client(transport=self.emulator.transport(), base_url=HOST, **kw)

    def close(self) -> None:
        for client in (self.data, self.campaign, self.plain):
            client.close()

    def fault(self, endpoint: str, kind: str) -> None:
        self.emulator.faults.add(FaultRule(endpoint=endpoint, kind=kind))  # type: ignore[arg-type]

    def catalog(self) -> str:
        """A catalog with the spec examples' attributes and items; returns its id."""
        answer = self.campaign.post(
            "/v1/catalog",
            json={"name": "conformance", "price_currency": "USD", "attributes": CATALOG_ATTRIBUTES},
        )
        catalog_id = answer.json()["catalog_id"]
        items = [
            {
                "id": i,
                "title": i,
                "link": f"https://x.example/{i}",
                "image_link": "https://i.example",
            }
            for i in EXAMPLE_ITEMS
        ]
        self.campaign.post(f"/v1/catalog/{catalog_id}/items", json={"items": items})
        return catalog_id

    def users(self, *customer_ids: str) -> None:
        elements = [
            {"type": "customer", "customer_id": c, "attributes": {"n": 1}} for c in customer_ids
        ]
        answer = self.data.post(
            f"/v1/transition/{WORKSPACE}", json={"type": "transition", "elements": elements}
        )
        assert answer.status_code == 200

    def report(self, generated_days_ago: int = 0) -> str:
        """A one-time report generated ``generated_days_ago`` days ago; returns its file name."""
        from datetime import timedelta

        day = utc_day(self.emulator.now()) - timedelta(days=generated_days_ago)
        definition = ReportDefinition("Conformance Report", day)
        ReportBook(self.emulator.store, WORKSPACE).define(definition)
        return definition.file(day).filename


def signature(filename: str, workspace: str = WORKSPACE) -> str:
    return hashlib.sha256(f"{workspace}|{filename}|{CAMPAIGN_KEY}".encode()).hexdigest()


@dataclass(frozen=True)
class Case:
    """One conformance case.

    Attributes:
        name: Unique, readable id.
        operation: The spec operation exercised.
        status: The status the emulator must answer.
        send: Sends the request through a ``Harness`` (after any setup).
        valid_request: Whether the request itself conforms (error cases often must not).
        disagreements: Names of documented disagreements this case meets.
        settings: ``EmulatorSettings`` fields for the case's emulator.
    """

    name: str
    operation: Operation
    status: int
    send: Callable[[Harness], httpx.Response]
    valid_request: bool = True
    disagreements: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def emulator(self) -> Emulator:
        return Emulator(EmulatorSettings(**self.settings))


def _op(family: str, method: str, path: str) -> Operation:
    operation = Operation(family, method, path)
    assert path in spec_document(family)["paths"], operation.name
    return operation


def _request_examples(operation: Operation) -> Iterator[tuple[str, Any]]:
    document = spec_document(operation.family)
    body = document["paths"][operation.path][operation.method.lower()].get("requestBody", {})
    if "$ref" in body:
        body = document["components"]["requestBodies"][body["$ref"].rsplit("/", 1)[-1]]
    media = body.get("content", {}).get("application/json", {})
    for name, example in media.get("examples", {}).items():
        yield name, example["value"]
    if "example" in media:
        yield "example", media["example"]


def _fill(value: Any, replacements: dict[str, str]) -> Any:
    text = orjson.dumps(value).decode()
    for placeholder, replacement in replacements.items():
        text = text.replace(placeholder, replacement)
    return orjson.loads(text)


# -- success cases from the specs' own request examples ----------------------------------------


def _example_cases() -> Iterator[Case]:
    data_paths = {
        "/customer/{app_id}": f"/v1/customer/{WORKSPACE}",
        "/event/{Workspace_ID}": f"/v1/event/{WORKSPACE}",
        "/transition/{Workspace_ID}": f"/v1/transition/{WORKSPACE}",
        "/customers/export": f"/v1/customers/export?app_id={WORKSPACE}",
    }
    for path, url in data_paths.items():
        operation = _op("data", "POST", path)
        for name, example in _request_examples(operation):
            identity = "User Identifiers" in name
            case_name = f"data {path} example {name!r}"
            yield Case(
                case_name,
                operation,
                200,
                lambda h, url=url, example=example: h.data.post(url, json=example),
                valid_request=case_name not in EXAMPLES_BREAKING_THEIR_SCHEMA,
                disagreements=(("transition-elements-enum",) if "transition" in path else ())
                + (("export-identifier-type-id",) if "export" in path else ()),
                settings={"identity_resolution": True} if identity else {},
            )
    for path in ("/campaigns/search", "/campaigns/meta"):
        operation = _op("campaigns", "POST", path)
        for name, example in _request_examples(operation):
            yield Case(
                f"campaigns {path} example {name!r}",
                operation,
                200,
                lambda h, path=path, example=example: h.campaign.post(
                    f"/core-services/v1{path}", json=example
                ),
                disagreements=("campaign-status-title-case", "meta-time-without-offset"),
            )
    stats = _op("stats-report", "POST", "/core-services/v1/campaign-stats")
    for name, example in _request_examples(stats):
        yield Case(
            f"stats example {name!r}",
            stats,
            200,
            lambda h, example=example: h.campaign.post(
                "/core-services/v1/campaign-stats", json=example
            ),
        )
    catalog_create = _op("catalog", "POST", "/catalog")
    for name, example in _request_examples(catalog_create):
        yield Case(
            f"catalog create example {name!r}",
            catalog_create,
            201,
            lambda h, example=example: h.campaign.post("/v1/catalog", json=example),
        )
    for method, path, suffix, status in (
        ("PATCH", "/catalog/{catalog_id}/attributes", "/attributes", 202),
        ("PATCH", "/catalog/{catalog_id}/items", "/items", 200),
        ("POST", "/catalog/{catalog_id}/items/bulk-delete", "/items/bulk-delete", 202),
        ("POST", "/catalog/{catalog_id}/items/search", "/items/search", 200),
    ):
        operation = _op("catalog", method, path)
        for name, example in _request_examples(operation):

            def send(h: Harness, method=method, suffix=suffix, example=example) -> httpx.Response:
                catalog_id = h.catalog()
                document = _fill(example, {"{{item_ID}}": "P001", "{{catalog_id}}": catalog_id})
                return h.campaign.request(
                    method, f"/v1/catalog/{catalog_id}{suffix}", json=document
                )

            yield Case(f"catalog {method} {suffix} example {name!r}", operation, status, send)


# -- hand-written cases ---------------------------------------------------------------------------


def _item(item_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": item_id,
        "title": item_id,
        "link": "https://x.example/p",
        "image_link": "https://x.example/i",
        **extra,
    }


def _catalog_cases() -> Iterator[Case]:
    create = _op("catalog", "POST", "/catalog")
    attributes = _op("catalog", "PATCH", "/catalog/{catalog_id}/attributes")
    add = _op("catalog", "POST", "/catalog/{catalog_id}/items")
    update = _op("catalog", "PATCH", "/catalog/{catalog_id}/items")
    search = _op("catalog", "POST", "/catalog/{catalog_id}/items/search")
    delete = _op("catalog", "POST", "/catalog/{catalog_id}/items/bulk-delete")

    def create_with(**fields: Any) -> Callable[[Harness], httpx.Response]:
        body = {"name": "c", "price_currency": "USD", "attributes": MANDATORY, **fields}
        return lambda h: h.campaign.post("/v1/catalog", json=body)

    def limit_reached(h: Harness) -> httpx.Response:
        for number in range(35):
            create_with(name=f"c{number}")(h)
        return create_with(name="one more")(h)

    def duplicate(h: Harness) -> httpx.Response:
        create_with()(h)
        return create_with()(h)

    def huge(h: Harness) -> httpx.Response:
        return create_with(name="x" * (5 * 1024 * 1024 + 1))(h)

    def limited(h: Harness) -> httpx.Response:
        h.fault("catalog_create", "rate_limit")
        return create_with()(h)

    too_many = [*MANDATORY, *({"name": f"a{i}", "type": "string"} for i in range(47))]
    yield Case(
        "catalog create: invalid type",
        create,
        400,
        create_with(attributes=[*MANDATORY, {"name": "x", "type": "list"}]),
        valid_request=False,
    )
    yield Case(
        "catalog create: mandatory missing", create, 400, create_with(attributes=MANDATORY[:3])
    )
    yield Case("catalog create: 35 catalogs", create, 400, limit_reached)
    yield Case(
        "catalog create: 51 attributes",
        create,
        400,
        create_with(attributes=too_many),
        valid_request=False,
    )
    yield Case("catalog create: duplicate name", create, 409, duplicate)
    yield Case("catalog create: over 5 MB", create, 413, huge)
    yield Case("catalog create: rate limited", create, 429, limited)
    yield Case(
        "catalog create: no credentials",
        create,
        401,
        lambda h: h.plain.post("/v1/catalog", json={"name": "c"}),
        valid_request=False,
    )
    yield Case(
        "catalog create: data key",
        create,
        403,
        lambda h: h.data.post(
            "/v1/catalog",
            json={"name": "c", "price_currency": "USD", "attributes": MANDATORY},
            headers={"MOE-APPKEY": WORKSPACE},
        ),
    )

    def on_catalog(method: str, suffix: str, body: Any) -> Callable[[Harness], httpx.Response]:
        def send(h: Harness) -> httpx.Response:
            return h.campaign.request(method, f"/v1/catalog/{h.catalog()}{suffix}", json=body)

        return send

    def unknown(method: str, suffix: str, body: Any) -> Callable[[Harness], httpx.Response]:
        return lambda h: h.campaign.request(method, f"/v1/catalog/{'0' * 24}{suffix}", json=body)

    many_attributes = {"attributes": [{"name": f"x{i}", "type": "string"} for i in range(45)]}
    yield Case(
        "catalog attributes: past 50",
        attributes,
        413,
        on_catalog("PATCH", "/attributes", many_attributes),
    )
    yield Case(
        "catalog attributes: invalid type",
        attributes,
        400,
        on_catalog("PATCH", "/attributes", {"attributes": [{"name": "x", "type": "int"}]}),
        valid_request=False,
    )
    yield Case(
        "catalog attributes: unknown catalog",
        attributes,
        404,
        unknown("PATCH", "/attributes", {"attributes": [{"name": "x", "type": "bool"}]}),
    )

    partial = {"items": [_item("new"), _item("P001"), {"id": "bad"}, _item("u", shipping=1)]}
    yield Case(
        "catalog items: valid", add, 200, on_catalog("POST", "/items", {"items": [_item("n")]})
    )
    yield Case(
        "catalog items: partially invalid",
        add,
        200,
        on_catalog("POST", "/items", partial),
        valid_request=False,
    )
    yield Case(
        "catalog items: 51 items",
        add,
        400,
        on_catalog("POST", "/items", {"items": [_item(f"p{i}") for i in range(51)]}),
        valid_request=False,
    )
    yield Case(
        "catalog items: unknown catalog",
        add,
        404,
        unknown("POST", "/items", {"items": [_item("n")]}),
    )

    def items_over_5_mb(h: Harness) -> httpx.Response:
        items = [_item(f"p{i}", description="x" * 110_000) for i in range(50)]
        return h.campaign.post(f"/v1/catalog/{h.catalog()}/items", json={"items": items})

    def items_limited(h: Harness) -> httpx.Response:
        catalog_id = h.catalog()
        h.fault("catalog_items_add", "rate_limit")
        return h.campaign.post(f"/v1/catalog/{catalog_id}/items", json={"items": [_item("n")]})

    yield Case("catalog items: over 5 MB", add, 413, items_over_5_mb)
    yield Case("catalog items: rate limited", add, 429, items_limited)
    yield Case(
        "catalog items: no MOE-APPKEY",
        add,
        401,
        lambda h: h.plain.post(
            f"/v1/catalog/{'0' * 24}/items",
            json={"items": [_item("n")]},
            auth=(WORKSPACE, CAMPAIGN_KEY),
        ),
        valid_request=False,
    )
    yield Case(
        "catalog update: item not found",
        update,
        200,
        on_catalog("PATCH", "/items", {"items": [{"id": "ghost", "attributes": {"price": 1}}]}),
    )
    yield Case(
        "catalog update: no attributes",
        update,
        400,
        on_catalog("PATCH", "/items", {"items": [{"id": "P001"}]}),
        valid_request=False,
    )
    yield Case(
        "catalog update: unknown catalog",
        update,
        404,
        unknown("PATCH", "/items", {"items": [{"id": "P001", "attributes": {}}]}),
    )
    yield Case(
        "catalog search: no ids", search, 400, on_catalog("POST", "/items/search", {"items": []})
    )
    yield Case(
        "catalog search: unknown catalog",
        search,
        404,
        unknown("POST", "/items/search", {"items": ["P001"]}),
    )
    yield Case(
        "catalog delete: 51 ids",
        delete,
        400,
        on_catalog("POST", "/items/bulk-delete", {"items": ["p"] * 51}),
        valid_request=False,
    )
    yield Case(
        "catalog delete: unknown catalog",
        delete,
        404,
        unknown("POST", "/items/bulk-delete", {"items": ["P001"]}),
    )


def _campaign_cases() -> Iterator[Case]:
    search = _op("campaigns", "POST", "/campaigns/search")
    meta = _op("campaigns", "POST", "/campaigns/meta")
    for operation, endpoint in ((search, "campaigns_search"), (meta, "campaigns_meta")):
        url = f"/core-services/v1{operation.path}"
        label = operation.path.rsplit("/", 1)[-1]

        def failing(h: Harness, url=url, endpoint=endpoint) -> httpx.Response:
            h.fault(endpoint, "error")
            return h.campaign.post(url, json={"request_id": "r", "limit": 1, "page": 1})

        yield Case(
            f"campaigns {label}: no request_id",
            operation,
            400,
            lambda h, url=url: h.campaign.post(url, json={"limit": 15, "page": 1}),
            valid_request=False,
        )
        yield Case(
            f"campaigns {label}: limit 16",
            operation,
            400,
            lambda h, url=url: h.campaign.post(
                url, json={"request_id": "r", "limit": 16, "page": 1}
            ),
            valid_request=False,
        )
        yield Case(
            f"campaigns {label}: wrong key",
            operation,
            401,
            lambda h, url=url: h.plain.post(
                url,
                json={"request_id": "r", "limit": 1, "page": 1},
                auth=(WORKSPACE, "wrong"),
                headers={"MOE-APPKEY": WORKSPACE},
            ),
        )
        yield Case(f"campaigns {label}: server error", operation, 500, failing)


def _stats_cases() -> Iterator[Case]:
    stats = _op("stats-report", "POST", "/core-services/v1/campaign-stats")
    report = _op("stats-report", "GET", "/campaign_reports/rest_api/{APP_ID}/{FILENAME}")
    body = {
        "request_id": "r",
        "start_date": "2025-01-01",
        "end_date": "2025-01-02",
        "attribution_type": "VIEW_THROUGH",
        "metric_type": "TOTAL",
    }
    url = "/core-services/v1/campaign-stats"

    def stats_fault(kind: str) -> Callable[[Harness], httpx.Response]:
        def send(h: Harness) -> httpx.Response:
            h.fault("campaign_stats", kind)
            return h.campaign.post(url, json=body)

        return send

    yield Case(
        "stats: no MOE-APPKEY",
        stats,
        400,
        lambda h: h.plain.post(url, json=body, auth=(WORKSPACE, CAMPAIGN_KEY)),
        valid_request=False,
    )
    yield Case(
        "stats: bad attribution",
        stats,
        400,
        lambda h: h.campaign.post(url, json={**body, "attribution_type": "X"}),
        valid_request=False,
    )
    yield Case(
        "stats: wrong key",
        stats,
        401,
        lambda h: h.plain.post(
            url, json=body, auth=(WORKSPACE, "no"), headers={"MOE-APPKEY": WORKSPACE}
        ),
    )
    yield Case(
        "stats: data key",
        stats,
        403,
        lambda h: h.plain.post(
            url, json=body, auth=(WORKSPACE, DATA_KEY), headers={"MOE-APPKEY": WORKSPACE}
        ),
    )
    yield Case("stats: rate limited", stats, 429, stats_fault("rate_limit"))
    yield Case("stats: server error", stats, 500, stats_fault("error"))

    def download(
        days_ago: int = 0,
        *,
        filename: str | None = None,
        app_id: str = WORKSPACE,
        signed: bool = True,
    ) -> Callable[[Harness], httpx.Response]:
        def send(h: Harness) -> httpx.Response:
            name = filename or h.report(days_ago)
            headers = {"Signature": signature(name, app_id)} if signed else {}
            return h.plain.get(f"/campaign_reports/rest_api/{app_id}/{name}", headers=headers)

        return send

    yield Case("report: fresh file", report, 200, download())
    yield Case("report: bad file name", report, 400, download(filename="nope.zip"))
    yield Case("report: older than 7 days", report, 400, download(7))
    yield Case("report: wrong app id", report, 400, download(app_id="SOMEONE_ELSE"))
    yield Case("report: no signature", report, 401, download(signed=False), valid_request=False)
    yield Case(
        "report: wrong signature",
        report,
        401,
        lambda h: h.plain.get(
            f"/campaign_reports/rest_api/{WORKSPACE}/{h.report()}", headers={"Signature": "0" * 64}
        ),
    )


def _data_cases() -> Iterator[Case]:
    transition = _op("data", "POST", "/transition/{Workspace_ID}")
    customer = _op("data", "POST", "/customer/{app_id}")
    event = _op("data", "POST", "/event/{Workspace_ID}")
    device = _op("data", "POST", "/device/{app_id}")
    export = _op("data", "POST", "/customers/export")
    merge = _op("data", "POST", "/customer/merge")
    delete = _op("data", "POST", "/customer/delete")
    bulk = f"/v1/transition/{WORKSPACE}"

    def post(url: str, body: Any, **kw: Any) -> Callable[[Harness], httpx.Response]:
        return lambda h: h.data.post(url, json=body, **kw)

    def raw(url: str, content: bytes, content_type: str) -> Callable[[Harness], httpx.Response]:
        return lambda h: h.data.post(url, content=content, headers={"Content-Type": content_type})

    def faulty(
        endpoint: str, kind: str, url: str, body: Any
    ) -> Callable[[Harness], httpx.Response]:
        def send(h: Harness) -> httpx.Response:
            h.fault(endpoint, kind)
            return h.data.post(url, json=body)

        return send

    yield Case(
        "transition: empty elements",
        transition,
        400,
        post(bulk, {"type": "transition", "elements": []}),
        disagreements=("transition-elements-enum",),
    )
    yield Case(
        "transition: invalid element type",
        transition,
        400,
        post(bulk, {"type": "transition", "elements": [{"type": "user", "customer_id": "c1"}]}),
        valid_request=False,
    )
    yield Case(
        "transition: customer_id missing",
        transition,
        400,
        post(bulk, {"type": "transition", "elements": [{"type": "customer", "attributes": {}}]}),
        valid_request=False,
    )
    yield Case(
        "transition: empty action",
        transition,
        400,
        post(
            bulk,
            {
                "type": "transition",
                "elements": [{"type": "event", "customer_id": "c1", "actions": [{"action": ""}]}],
            },
        ),
        disagreements=("transition-elements-enum",),
    )
    yield Case(
        "transition: malformed JSON",
        transition,
        400,
        raw(bulk, b'{"type": "transition", "elements": [', "application/json"),
        valid_request=False,
    )

    track_user = f"/v1/customer/{WORKSPACE}"
    user = {"type": "customer", "customer_id": "c1", "attributes": {"name": "Ann"}}
    yield Case(
        "customer: customer_id missing",
        customer,
        400,
        post(track_user, {"type": "customer", "attributes": {}}),
        valid_request=False,
    )
    yield Case(
        "customer: wrong key",
        customer,
        401,
        lambda h: h.plain.post(track_user, json=user, auth=(WORKSPACE, "nope")),
    )
    yield Case(
        "customer: campaign key",
        customer,
        403,
        lambda h: h.plain.post(track_user, json=user, auth=(WORKSPACE, CAMPAIGN_KEY)),
    )
    yield Case(
        "customer: over 128 KB",
        customer,
        413,
        post(track_user, {**user, "attributes": {"blob": "x" * 140_000}}),
    )
    yield Case(
        "customer: not JSON",
        customer,
        415,
        raw(track_user, b"name=Ann", "text/plain"),
        valid_request=False,
    )
    yield Case(
        "customer: rate limited", customer, 429, faulty("customer", "rate_limit", track_user, user)
    )
    yield Case(
        "customer: server error", customer, 500, faulty("customer", "error", track_user, user)
    )

    track_event = f"/v1/event/{WORKSPACE}"
    yield Case(
        "event: empty actions",
        event,
        400,
        post(track_event, {"type": "event", "customer_id": "c1", "actions": []}),
    )
    yield Case(
        "event: rate limited",
        event,
        429,
        faulty(
            "event",
            "rate_limit",
            track_event,
            {"type": "event", "customer_id": "c1", "actions": [{"action": "Viewed"}]},
        ),
    )

    track_device = f"/v1/device/{WORKSPACE}"
    device_body = {
        "type": "device",
        "customer_id": "c1",
        "device_id": "d1",
        "attributes": {"platform": "ANDROID", "push_id": "token", "model": "Pixel"},
    }

    def with_user(url: str, body: Any, *users: str) -> Callable[[Harness], httpx.Response]:
        def send(h: Harness) -> httpx.Response:
            h.users(*users)
            return h.data.post(url, json=body)

        return send

    yield Case("device: valid", device, 200, with_user(track_device, device_body, "c1"))
    yield Case(
        "device: attributes missing",
        device,
        400,
        post(track_device, {"type": "device", "customer_id": "c1", "device_id": "d1"}),
        valid_request=False,
    )

    export_url = f"/v1/customers/export?app_id={WORKSPACE}"
    identifiers = [{"identifier_type": "customer_id", "identifier": f"c{i}"} for i in range(21)]
    yield Case(
        "export: 21 users", export, 400, post(export_url, {"data": {"identifiers": identifiers}})
    )
    yield Case(
        "export: data missing", export, 400, post(export_url, {"users": []}), valid_request=False
    )
    found_and_not = {
        "data": {
            "identifiers": [
                {"identifier_type": "customer_id", "identifier": "c1"},
                {"identifier_type": "customer_id", "identifier": "ghost"},
            ],
            "user_fields_to_export": ["customer_id", "n"],
        }
    }
    yield Case(
        "export: found and not found", export, 200, with_user(export_url, found_and_not, "c1")
    )
    yield Case(
        "export: past 1,000 users a minute",
        export,
        429,
        post(export_url, found_and_not),
        settings={"rate_limits": {"customers_export": (RateLimit(1, 60),)}},
    )

    merge_url = f"/v1/customer/merge?app_id={WORKSPACE}"
    pair = {"merge_data": [{"merged_user": "old-user", "retained_user": "new-user"}]}
    yield Case("merge: valid", merge, 200, with_user(merge_url, pair, "old-user", "new-user"))
    yield Case("merge: merge_data missing", merge, 400, post(merge_url, {}))
    other_url = "/v1/customer/merge?app_id=SOMEONE_ELSE"
    yield Case(
        "merge: app_id of another workspace",
        merge,
        409,
        post(other_url, pair),
        settings={"extra_workspaces": {"SOMEONE_ELSE": WorkspaceKeys("d", "c")}},
    )
    yield Case("merge: app_id of no workspace", merge, 400, post(other_url, pair))
    yield Case(
        "merge: over 128 KB", merge, 413, post(merge_url, {"merge_data": [], "pad": "x" * 140_000})
    )
    yield Case(
        "merge: rate limited", merge, 429, faulty("customer_merge", "rate_limit", merge_url, pair)
    )
    for state, status in (
        ("blacklisted", 400),
        ("suspended", 400),
        ("blocked", 400),
        ("temporarily_suspended", 403),
        ("secret_not_set", 409),
    ):
        yield Case(
            f"merge: account {state}",
            merge,
            status,
            post(merge_url, pair),
            settings={"account_states": {WORKSPACE: state}},
        )

    delete_url = f"/v1/customer/delete?app_id={WORKSPACE}"
    who = {"identity_type": "customer_id", "identity_value": "gone-user"}
    yield Case("delete: valid", delete, 200, with_user(delete_url, who, "gone-user"))
    yield Case("delete: no such user", delete, 400, post(delete_url, who))
    yield Case(
        "delete: wrong key",
        delete,
        401,
        lambda h: h.plain.post(delete_url, json=who, auth=(WORKSPACE, "nope")),
    )
    for state in ("suspended", "temporarily_suspended", "blocked"):
        yield Case(
            f"delete: account {state}",
            delete,
            403,
            post(delete_url, who),
            settings={"account_states": {WORKSPACE: state}},
        )
    yield Case(
        "delete: app_id of no workspace",
        delete,
        403,
        post("/v1/customer/delete?app_id=NO_SUCH_WORKSPACE", who),
    )
    yield Case(
        "delete: rate limited",
        delete,
        429,
        faulty("customer_delete", "rate_limit", delete_url, who),
    )
    yield Case(
        "delete: server error", delete, 500, faulty("customer_delete", "error", delete_url, who)
    )


def _account_and_size_cases() -> Iterator[Case]:
    """Account states, an app id of no workspace and 128 KB on the other Data APIs."""
    user = {"type": "customer", "customer_id": "c1", "attributes": {"name": "Ann"}}
    event = {"type": "event", "customer_id": "c1", "actions": [{"action": "Viewed"}]}
    device = {
        "type": "device",
        "customer_id": "c1",
        "device_id": "d1",
        "attributes": {"platform": "ANDROID", "push_id": "token"},
    }
    export = {"data": {"identifiers": [{"identifier_type": "customer_id", "identifier": "c1"}]}}
    pad = "x" * 140_000
    for path, url, body, oversized in (
        ("/customer/{app_id}", f"/v1/customer/{WORKSPACE}", user, {**user, "pad": pad}),
        ("/event/{Workspace_ID}", f"/v1/event/{WORKSPACE}", event, {**event, "pad": pad}),
        ("/device/{app_id}", f"/v1/device/{WORKSPACE}", device, {**device, "pad": pad}),
        (
            "/customers/export",
            f"/v1/customers/export?app_id={WORKSPACE}",
            export,
            {"data": {**export["data"], "pad": pad}},
        ),
    ):
        operation = _op("data", "POST", path)
        name = path.split("/")[1]
        for state in ("suspended", "temporarily_suspended", "blocked"):
            yield Case(
                f"{name}: account {state}",
                operation,
                403,
                lambda h, url=url, body=body: h.data.post(url, json=body),
                settings={"account_states": {WORKSPACE: state}},
            )
        if name == "customer":
            continue  # its 413 case is among the hand-written ones
        yield Case(
            f"{name}: over 128 KB",
            operation,
            413,
            lambda h, url=url, body=oversized: h.data.post(url, json=body),
            valid_request=False,
        )
    transition = _op("data", "POST", "/transition/{Workspace_ID}")
    bulk = {"type": "transition", "elements": [user]}
    for name, url, settings in (
        (
            "account blacklisted",
            f"/v1/transition/{WORKSPACE}",
            {"account_states": {WORKSPACE: "blacklisted"}},
        ),
        ("app_id of no workspace", "/v1/transition/NO_SUCH_WORKSPACE", {}),
    ):
        yield Case(
            f"transition: {name}",
            transition,
            400,
            lambda h, url=url: h.data.post(url, json=bulk),
            disagreements=("transition-elements-enum",),
            settings=settings,
        )


def all_cases() -> list[Case]:
    cases = [
        *_example_cases(),
        *_catalog_cases(),
        *_campaign_cases(),
        *_stats_cases(),
        *_data_cases(),
        *_account_and_size_cases(),
    ]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases
