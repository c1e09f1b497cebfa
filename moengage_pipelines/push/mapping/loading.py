"""``load_mapping``: a mapping from YAML (a file or text), a dict, or a model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, TypeAdapter, ValidationError

from moengage_pipelines.push.mapping.catalog import CatalogMapping
from moengage_pipelines.push.mapping.errors import MappingError
from moengage_pipelines.push.mapping.events import EventMapping
from moengage_pipelines.push.mapping.users import UserMapping

__all__ = ["AnyMapping", "EntityMapping", "load_mapping"]

# Any entity's mapping, for type hints.
EntityMapping = UserMapping | EventMapping | CatalogMapping

AnyMapping = Annotated[UserMapping | EventMapping | CatalogMapping, Field(discriminator="entity")]
_ADAPTER: TypeAdapter[UserMapping | EventMapping | CatalogMapping] = TypeAdapter(AnyMapping)

def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        # Drop the union tag ("users", "events") pydantic puts first in the location.
        location = [str(part) for part in item["loc"]]
        if location and location[0] in {"users", "events", "catalog"}:
            location = location[1:]
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{'.'.join(location)}: {message}" if location else message)
    return "; ".join(parts)


def load_mapping(
    source: str | Path | Mapping[str, Any] | UserMapping | EventMapping | CatalogMapping,
) -> UserMapping | EventMapping | CatalogMapping:
    """Load a mapping from a YAML file path, a YAML string, a dict, or pass a model through.

    Args:
        source: A path to a ``.yml``/``.yaml`` file, YAML text, a dict with an ``entity`` key
            (``users``, ``events`` or ``catalog``), or an already built mapping.

    Returns:
        The validated mapping model.

    Raises:
        MappingError: If the document is not valid; the message names each bad field.
    """
    if isinstance(source, UserMapping | EventMapping | CatalogMapping):
        return source
    document: Any
    origin = "mapping"
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yml", ".yaml"))
    ):
        path = Path(source)
        origin = str(path)
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MappingError(f"cannot read mapping {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise MappingError(f"{path} is not valid YAML: {exc}") from None
    elif isinstance(source, str):
        try:
            document = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise MappingError(f"mapping is not valid YAML: {exc}") from None
    else:
        document = dict(source)
    if not isinstance(document, Mapping):
        raise MappingError(f"{origin}: expected a mapping document (key: value pairs)")
    if "entity" not in document:
        raise MappingError(f"{origin}: entity is required (users, events or catalog)")
    try:
        return _ADAPTER.validate_python(dict(document))
    except ValidationError as exc:
        raise MappingError(f"{origin}: {_describe(exc)}") from None

