"""The error a bad mapping raises."""

from moengage_pipelines.errors import ConfigError

__all__ = ["MappingError"]


class MappingError(ConfigError):
    """A mapping document is invalid, or does not fit its source; the message says where."""
