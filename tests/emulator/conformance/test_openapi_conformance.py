"""The emulator's requests and answers checked against MoEngage's OpenAPI files.

* Every case's answer must validate against its operation (status, headers, body schema);
  requests marked valid must validate too.
* Drift: every spec operation the emulator routes is "in scope" and must have a case, every
  other operation must be listed as out of scope with a reason, and every emulator route must
  be a spec operation or be listed as outside the specs.
* Disagreements are skipped only by name, only for the errors they explain, and only while
  they are still written down in ``docs/emulator.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from moengage_pipelines.emulator import Emulator, EmulatorSettings
from moengage_pipelines.emulator.routing import RouteMatch
from tests.emulator.conformance.cases import (
    EXAMPLES_BREAKING_THEIR_SCHEMA,
    Case,
    Harness,
    all_cases,
)
from tests.emulator.conformance.disagreements import DISAGREEMENTS, unexplained
from tests.emulator.conformance.openapi import operations, request_errors, response_errors

DOCS = Path(__file__).resolve().parents[3] / "docs" / "emulator.md"
CASES = all_cases()

# Spec operations the emulator does not implement, and why.
OUT_OF_SCOPE = {
    "campaigns POST /campaigns": "creating campaigns is outside the pipelines",
    "campaigns PATCH /campaigns/{campaign_id}": "updating campaigns is outside the pipelines",
    "campaigns POST /campaigns/status": "changing campaign status is outside the pipelines",
    "campaigns POST /campaigns/test": "test sends are outside the pipelines",
    "campaigns POST /campaigns/{parent_campaign_id}/executions": "not used by the pull",
    "campaigns POST /personalization/preview": "personalization is outside the pipelines",
    "campaigns PUT /global-control-group/users": "control groups are outside the pipelines",
    "data GET /installInfo": "install attribution is outside the pipelines",
    "data POST /devices/manage": "device opt-out is outside the pipelines",
    "data POST /integrations/authentication": "test connection is not used",
    "data POST /fileimports/trigger/{schedule_id}": "file imports live on another host",
    "data POST /fileimports/import/status": "file imports live on another host",
    "data POST /fileimports/import/run/history": "file imports live on another host",
}
# Emulator routes that are no operation of the copied specs.
OUTSIDE_THE_SPECS = {"inspection"}


def _routed(emulator: Emulator, operation) -> str | None:
    found = emulator.router.match(operation.method, operation.emulator_path())
    return found.route.endpoint if isinstance(found, RouteMatch) else None


@pytest.fixture(scope="module")
def routes() -> dict:
    with Emulator(EmulatorSettings()) as emulator:
        return {op: _routed(emulator, op) for op in operations()}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case_conforms(case: Case):
    with case.emulator() as emulator:
        harness = Harness(emulator)
        try:
            response = case.send(harness)
        finally:
            harness.close()
    assert response.status_code == case.status, response.text[:500]
    family = case.operation.family
    errors = response_errors(family, response.request, response)
    if case.valid_request:
        errors += request_errors(family, response.request)
    elif case.name in EXAMPLES_BREAKING_THEIR_SCHEMA:
        shown = request_errors(family, response.request)
        assert any(EXAMPLES_BREAKING_THEIR_SCHEMA[case.name] in e for e in shown), shown
    left, used = unexplained(errors, case.disagreements)
    assert not left, "\n".join(left)
    if used:
        pytest.skip(f"documented disagreement: {', '.join(sorted(used))}")


def test_every_in_scope_operation_has_cases(routes):
    covered = {case.operation for case in CASES}
    in_scope = {op for op, endpoint in routes.items() if endpoint is not None}
    missing = sorted(op.name for op in in_scope - covered)
    assert not missing, f"in-scope operations without a conformance case: {missing}"
    # Each in-scope operation has a success case and an error case.
    for operation in in_scope:
        statuses = {case.status for case in CASES if case.operation == operation}
        assert any(s < 300 for s in statuses) and any(s >= 400 for s in statuses), operation.name


def test_out_of_scope_operations_are_exactly_the_unrouted_ones(routes):
    unrouted = {op.name for op, endpoint in routes.items() if endpoint is None}
    assert unrouted == set(OUT_OF_SCOPE), (
        "spec operations changed: route and cover new ones, or list them in OUT_OF_SCOPE"
    )


def test_every_emulator_route_is_a_spec_operation(routes):
    with Emulator(EmulatorSettings()) as emulator:
        endpoints = {route.endpoint for route in emulator.router.routes}
    from_specs = {endpoint for endpoint in routes.values() if endpoint is not None}
    assert endpoints - from_specs == OUTSIDE_THE_SPECS


def test_cases_only_name_documented_disagreements():
    decisions = DOCS.read_text(encoding="utf-8")
    named = {name for case in CASES for name in case.disagreements}
    assert named <= set(DISAGREEMENTS)
    for name in DISAGREEMENTS:
        assert f"`{name}`" in decisions, f"{name} is not in the Decisions table of {DOCS.name}"


def test_every_named_disagreement_is_met_by_some_case():
    named = {name for case in CASES for name in case.disagreements}
    assert named == set(DISAGREEMENTS)


def test_catalog_currencies_are_the_spec_enum():
    from moengage_pipelines.emulator.catalog_rules import ATTRIBUTE_TYPES, CURRENCIES
    from tests.emulator.conformance.openapi import spec_document

    schemas = spec_document("catalog")["components"]["schemas"]
    assert (
        set(schemas["CreateCatalogRequest"]["properties"]["price_currency"]["enum"]) == CURRENCIES
    )
    assert set(ATTRIBUTE_TYPES) == set(schemas["AttributeDefinition"]["properties"]["type"]["enum"])


def test_docs_list_the_covered_operations(routes):
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("<!-- covered-operations -->", 1)[1].split("```text\n", 1)[1]
    listed = block.split("```", 1)[0].strip().splitlines()
    routed = sorted(f"{op.name} -> {endpoint}" for op, endpoint in routes.items() if endpoint)
    assert listed == routed
