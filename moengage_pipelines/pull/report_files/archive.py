"""The CSV files inside a downloaded report: a ZIP of CSVs, a gzip of a CSV, or CSV text."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO

from moengage_pipelines.pull.errors import ResponseShapeError

__all__ = ["MemberOpener", "csv_members", "csv_rows"]

MemberOpener = Callable[[], IO[bytes]]
"""Opens one CSV of the download as a binary stream (used as a context manager)."""


@contextmanager
def csv_members(content: bytes, filename: str) -> Iterator[list[tuple[str, MemberOpener]]]:
    """Yield ``(member_name, opener)`` pairs for every CSV in the downloaded file."""
    if zipfile.is_zipfile(io.BytesIO(content)):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = [
                info.filename
                for info in archive.infolist()
                if not info.is_dir()
                and info.filename.lower().endswith((".csv", ".txt"))
                and not info.filename.startswith("__MACOSX/")
            ]
            yield [(name, (lambda n=name: archive.open(n))) for name in names]
        return
    stem = re.sub(r"\.(zip|gz|gzip)$", "", filename, flags=re.IGNORECASE)
    if content[:2] == b"\x1f\x8b":
        # The opener is entered with a context manager by csv_rows.
        yield [(f"{stem}.csv", lambda: gzip.open(io.BytesIO(content)))]  # noqa: SIM115
        return
    if content[:1] in (b"{", b"<") or b"\x00" in content[:512]:
        raise ResponseShapeError(
            f"report file {filename} is neither a ZIP nor a gzip nor CSV text "
            f"(starts with {content[:16]!r}); nothing was written"
        )
    yield [(f"{stem}.csv", lambda: io.BytesIO(content))]


def csv_rows(opener: MemberOpener) -> Iterator[list[str]]:
    """The rows of one CSV as lists of cells (UTF-8, with or without a byte-order mark)."""
    with opener() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
        yield from csv.reader(text)
