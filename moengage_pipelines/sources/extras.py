"""Drivers installed as optional extras, and the error naming the extra when one is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from moengage_pipelines.sources.errors import SourceError

__all__ = ["MissingExtraError", "require_extra"]


class MissingExtraError(SourceError, ImportError):
    """A source needs a driver that is not installed; the message names the extra to install.

    Attributes:
        extra: The ``moengage-pipelines[...]`` extra providing the driver.
    """

    def __init__(self, what: str, module: str, extra: str) -> None:
        self.extra = extra
        super().__init__(
            f"{what} needs the Python module {module!r}, which is not installed: "
            f"pip install 'moengage-pipelines[{extra}]'"
        )


def require_extra(module: str, *, extra: str, what: str) -> ModuleType:
    """Import a driver module, or raise an error telling which extra provides it.

    Args:
        module: The module to import, e.g. ``"snowflake.connector"``.
        extra: The extra that installs it, e.g. ``"snowflake"``.
        what: Names the source needing it, for the message.

    Returns:
        The imported module.

    Raises:
        MissingExtraError: If the module cannot be imported.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(what, module, extra) from None
