"""Validation of emulator traffic against MoEngage's OpenAPI files (copied under ``specs/``).

The specs put their operations under different server prefixes (``/v1`` for data and
catalog, ``/core-services/v1`` for campaigns, none for stats and reports): an ``Operation``
keeps its spec's prefix so it can name the emulator path it corresponds to, and openapi-core
matches full URLs against the servers (``https://api-{dc}.moengage.com/...``) itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

SPECS_DIR = Path(__file__).parent / "specs"
SPEC_FILES = {
    "data": "moengage-data-openapi.yml",
    "catalog": "moengage-catalog-openapi.yml",
    "stats-report": "moengage-stats-report-openapi.yml",
    "campaigns": "moengage-campaigns-openapi.yml",
}
METHODS = ("get", "put", "post", "patch", "delete")


@functools.cache
def spec_document(family: str) -> dict:
    with (SPECS_DIR / SPEC_FILES[family]).open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.cache
def openapi(family: str) -> OpenAPI:
    return OpenAPI.from_file_path(str(SPECS_DIR / SPEC_FILES[family]))


@dataclass(frozen=True, order=True)
class Operation:
    """One operation of one spec."""

    family: str
    method: str  # upper case
    path: str  # as in the spec, e.g. /catalog/{catalog_id}/items

    @property
    def prefix(self) -> str:
        return urlparse(spec_document(self.family)["servers"][0]["url"]).path.rstrip("/")

    @property
    def name(self) -> str:
        return f"{self.family} {self.method} {self.path}"

    def emulator_path(self, **params: str) -> str:
        """The full path on the emulator (placeholders filled with ``params`` or ``X1``)."""
        path = self.prefix + self.path
        for part in path.split("/"):
            if part.startswith("{") and part.endswith("}"):
                path = path.replace(part, params.get(part[1:-1], "X1"))
        return path


def operations() -> list[Operation]:
    """Every operation of every copied spec."""
    found = []
    for family in SPEC_FILES:
        for path, item in spec_document(family)["paths"].items():
            found += [Operation(family, m.upper(), path) for m in METHODS if m in item]
    return sorted(found)


class OpenAPIRequest:
    """An ``httpx.Request`` seen through openapi-core's request protocol."""

    def __init__(self, request: httpx.Request) -> None:
        url = urlparse(str(request.url))
        self.host_url = f"{url.scheme}://{url.netloc}"
        self.path = url.path
        self.method = request.method.lower()
        self.body = request.content or None
        self.content_type = request.headers.get("content-type", "")
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query, keep_blank_values=True)),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )


class OpenAPIResponse:
    """An ``httpx.Response`` seen through openapi-core's response protocol."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))
        self.data = response.content


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _message(schema_error) -> str:
    # jsonschema starts most messages with the instance's repr, which can be a whole body.
    message, shown = schema_error.message, repr(schema_error.instance)
    if message.startswith(shown) and len(shown) > 80:
        message = _short(shown, 80) + message[len(shown) :]
    return _short(message)


def _branch(schema_error) -> list:
    """The errors of the oneOf/anyOf branch meant for the instance.

    The branch is the one whose errors do not reject the instance's ``type`` (the element
    kind), or else the one with the fewest errors.
    """
    branches: dict[int, list] = {}
    for inner in schema_error.context or ():
        branches.setdefault(inner.relative_schema_path[0], []).append(inner)
    if not branches:
        return []

    def rejects_type(errors: list) -> bool:
        return any(list(e.relative_path)[-1:] == ["type"] for e in errors)

    return min(branches.values(), key=lambda errors: (rejects_type(errors), len(errors)))


def _leaves(schema_error) -> list[str]:
    if schema_error.validator in ("oneOf", "anyOf") and schema_error.context:
        found = [leaf for inner in _branch(schema_error) for leaf in _leaves(inner)]
        if found:
            return found
    path = "/".join(str(p) for p in schema_error.absolute_path) or "<root>"
    return [f"at {path}: {_message(schema_error)}"]


def _errors(error: Exception) -> list[str]:
    """One line per problem: ``at <json path>: <schema message>``, or the error itself.

    openapi-core wraps schema problems (``InvalidData`` → ``InvalidSchemaValue`` →
    jsonschema errors); the leaves are what a disagreement is recognised by. A oneOf that no
    branch satisfies is reported by the errors of the branch meant for the value.
    """
    leaves: list[str] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        for schema_error in getattr(current, "schema_errors", ()) or ():
            leaves += _leaves(schema_error)
        stack.append(current.__cause__)
    return leaves or [f"{type(error).__name__}: {_short(str(error))}"]


def request_errors(family: str, request: httpx.Request) -> list[str]:
    """Why a request does not conform to its spec (empty when it does)."""
    try:
        openapi(family).validate_request(OpenAPIRequest(request))
    except Exception as error:  # openapi-core raises one class per kind of problem
        return _errors(error)
    return []


def response_errors(family: str, request: httpx.Request, response: httpx.Response) -> list[str]:
    """Why a response does not conform to its spec (empty when it does)."""
    try:
        openapi(family).validate_response(OpenAPIRequest(request), OpenAPIResponse(response))
    except Exception as error:
        return _errors(error)
    return []
