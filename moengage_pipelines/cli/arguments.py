"""Argument types of the command line: each bad value is one clear ``error:`` line, exit 2."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

__all__ = ["OneLineErrorParser", "at_least", "body_limit"]

# MoEngage's bulk-import body limit and the smallest body that still holds an element
# (``moengage_pipelines.limits.TRANSITION_MAX_BYTES``, ``PushOptions``); spelled out so that
# parsing arguments imports nothing heavy.
_MAX_BODY_BYTES = 100_000
_MIN_BODY_BYTES = 100
# A URL inside an argparse message: a scheme, ``://`` and everything up to a blank or quote.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]+")


class OneLineErrorParser(argparse.ArgumentParser):
    """A parser whose usage errors are one ``error:`` line on stderr, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print ``error: <message>`` (naming the command) and exit with 2.

        Argparse quotes the arguments it could not use, which may be URLs carrying a
        password: each URL is shown redacted.
        """
        from moengage_pipelines.redaction import redact_url

        message = _URL.sub(lambda match: redact_url(match.group(0)), message)
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def at_least(minimum: int) -> Callable[[str], int]:
    """An integer argument type refusing values below ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def body_limit(text: str) -> int:
    """A bulk-import body limit: ``_MIN_BODY_BYTES`` to MoEngage's 100,000 bytes."""
    value = at_least(_MIN_BODY_BYTES)(text)
    if value > _MAX_BODY_BYTES:
        raise argparse.ArgumentTypeError(
            f"MoEngage accepts bodies of at most {_MAX_BODY_BYTES:,} bytes, got {value:,}"
        )
    return value
