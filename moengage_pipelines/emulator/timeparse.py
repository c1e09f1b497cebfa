"""Reading MoEngage's date and time values the way its docs describe.

* Attribute datetimes: ``YYYY-MM-DDTHH:mm:ssZ`` (fraction and ``±HH:MM`` offsets accepted) and
  ``YYYY-MM-DD``. Anything else, including impossible calendar values (month 15), is kept
  as a plain string: MoEngage stores it as a string attribute without an error.
* Event times: ISO 8601, or epoch seconds as a number or string. Official examples also send
  13-digit epoch milliseconds, so numbers above 10^11 are read as milliseconds.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, timedelta

__all__ = ["attribute_type", "event_epoch", "stored_datetime", "utc_day"]

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EPOCH = date(1970, 1, 1)
_MILLIS_THRESHOLD = 100_000_000_000  # 10^11 s is the year 5138; beyond it, it's milliseconds


def _iso(text: str) -> datetime | None:
    # Python 3.11's fromisoformat reads a trailing "Z" as UTC.
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def attribute_type(value: object) -> str:
    """The type MoEngage would give an attribute value.

    Returns:
        One of ``boolean``, ``number``, ``array``, ``object``, ``null``, ``datetime``, ``string``.
    """
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    if value is None:
        return "null"
    text = str(value)
    if _ISO_DATETIME.match(text) and _iso(text) is not None:
        return "datetime"
    if _ISO_DATE.match(text):
        try:
            date.fromisoformat(text)
        except ValueError:
            return "string"
        return "datetime"
    return "string"


def stored_datetime(value: object) -> object:
    """A datetime attribute as Get User shows it: UTC, milliseconds, ``Z``.

    MoEngage keeps a valid datetime as a point in time, not as the text sent, so
    ``2024-03-01`` and ``2024-03-01T05:30:00+05:30`` both come back as
    ``2024-03-01T00:00:00.000Z``. A value that is not a datetime is returned unchanged.
    """
    if not isinstance(value, str) or attribute_type(value) != "datetime":
        return value
    moment = _iso(value) if "T" in value else datetime.fromisoformat(value).replace(tzinfo=UTC)
    if moment is None:
        return value
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def event_epoch(value: object) -> float | None:
    """Epoch seconds of an event time, or None when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        # Text shaped like ``YYYY-MM-DD...`` is read as ISO 8601 first: trying ``float`` on it
        # raises, slowly, for nearly every event. If it does not parse, the number and the
        # ISO readings are tried as for any other text.
        if len(text) >= 10 and text[4] == "-":
            parsed = _iso(text)
            if parsed is not None:
                return parsed.timestamp()
        try:
            number = float(text)
        except ValueError:
            parsed = _iso(text)
            return parsed.timestamp() if parsed is not None else None
    if number != number or number in (float("inf"), float("-inf")):  # NaN / inf
        return None
    return number / 1000.0 if abs(number) >= _MILLIS_THRESHOLD else number


def utc_day(epoch: float) -> str:
    """``YYYY-MM-DD`` of an epoch instant in UTC."""
    return _day_text(int(epoch // 86_400))


@functools.lru_cache(maxsize=8192)
def _day_text(days_since_epoch: int) -> str:
    # Formatting dates dominates event ingestion otherwise; few distinct days repeat a lot.
    return (_EPOCH + timedelta(days=days_since_epoch)).isoformat()
