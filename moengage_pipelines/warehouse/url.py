"""Parsing of warehouse URLs.

Accepted forms:

* ``duckdb:///abs/path.duckdb`` (also ``duckdb:/abs/path.duckdb``, ``duckdb://rel/path.duckdb``
  and a bare path ending in ``.duckdb`` or ``.db``);
* ``duckdb:///:memory:`` (or ``:memory:``);
* ``postgresql://user:password@host:port/db?schema=analytics`` (``postgres://`` too).
  ``schema`` is ours, the other query parameters are passed to libpq.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from moengage_pipelines.redaction import redact_url
from moengage_pipelines.warehouse.errors import WarehouseError

__all__ = ["MEMORY", "WarehouseURL"]

MEMORY = ":memory:"


@dataclass(frozen=True, repr=False)
class WarehouseURL:
    """A parsed warehouse URL.

    Attributes:
        kind: ``"duckdb"`` or ``"postgres"``.
        target: The DuckDB database path (or ``":memory:"``), or the libpq URL without our own
            query parameters.
        schema: Default schema for unqualified table names, if given.
    """

    kind: Literal["duckdb", "postgres"]
    target: str
    schema: str | None = None

    @classmethod
    def parse(cls, url: str, schema: str | None = None) -> WarehouseURL:
        """Parse a warehouse URL.

        Args:
            url: The URL (see the module docstring).
            schema: Default schema; overrides a ``?schema=`` in the URL.

        Returns:
            The parsed URL.

        Raises:
            WarehouseError: If the URL is of an unknown kind (the message is redacted).
        """
        text = str(url).strip()
        lowered = text.lower()
        if lowered.startswith(("postgresql://", "postgres://")):
            parts = urlsplit(text)
            query = parse_qsl(parts.query, keep_blank_values=True)
            url_schema = next((v for k, v in query if k == "schema"), None)
            rest = [(k, v) for k, v in query if k != "schema"]
            target = urlunsplit(parts._replace(query=urlencode(rest)))
            return cls("postgres", target, schema or url_schema or None)
        if lowered.startswith("duckdb:"):
            path = text[len("duckdb:") :]
            if path.startswith("//"):
                path = path[2:]
            if path in {"", "/" + MEMORY, MEMORY}:
                path = MEMORY
            return cls("duckdb", path, schema)
        if text == MEMORY or lowered.endswith((".duckdb", ".db")):
            return cls("duckdb", text, schema)
        raise WarehouseError(
            f"unsupported warehouse URL {redact_url(text)!r}; use duckdb:///path.duckdb, "
            "duckdb:///:memory: or postgresql://user@host:port/db"
        )

    def describe(self) -> str:
        """Return the URL with any password replaced by ``***``."""
        if self.kind == "duckdb":
            # "duckdb://" + "/abs/path" reads back as the same absolute path.
            text = f"duckdb://{self.target}" if self.target != MEMORY else "duckdb:///:memory:"
        else:
            text = redact_url(self.target)
        return f"{text} (schema {self.schema})" if self.schema else text

    def __repr__(self) -> str:
        # The generated dataclass repr would print ``target``, password included.
        return f"WarehouseURL({self.describe()!r})"

    def __str__(self) -> str:
        return self.describe()
