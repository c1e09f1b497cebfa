"""Normalized spellings of the platform, locale and variation keys of campaign-stats responses.

MoEngage's documentation shows ``android`` / ``all_locales`` / ``all_variations``; clients that
call the live API look for ``ALL_PLATFORMS`` / ``all_locale`` / ``control_group``. Every
spelling maps to one normalized value here, and the raw key is always stored next to it, so a
new spelling never changes numbers silently: it shows up as a raw key and, when it is not
recognised at all, as a reported shape issue.
"""

from __future__ import annotations

import re

__all__ = [
    "ALL",
    "CAMPAIGN_CONTROL_GROUP",
    "GLOBAL_CONTROL_GROUP",
    "KNOWN_PLATFORMS",
    "is_control_group",
    "normalize_locale",
    "normalize_platform",
    "normalize_variation",
    "push_platform",
]

ALL = "ALL"
"""Normalized key of an aggregate over every platform (``ALL_PLATFORMS``)."""
ALL_LOCALES = "all"
ALL_VARIATIONS = "all"
CAMPAIGN_CONTROL_GROUP = "campaign_control_group"
GLOBAL_CONTROL_GROUP = "global_control_group"

# Platforms the stats API documents (ANDROID, IOS, WEB, MWEB, UNKNOWN), the aggregate, and the
# non-device channels email and SMS report under.
KNOWN_PLATFORMS = frozenset({"ANDROID", "IOS", "WEB", "MWEB", "UNKNOWN", ALL, "EMAIL", "SMS"})

_PLATFORM_ALIASES = {
    "all": ALL,
    "all_platform": ALL,
    "all_platforms": ALL,
    "allplatforms": ALL,
    "all_platform_stats": ALL,
    "ios": "IOS",
    "iphone": "IOS",
    "mweb": "MWEB",
    "m_web": "MWEB",
    "mobile_web": "MWEB",
    "mobileweb": "MWEB",
}
_LOCALE_ALIASES = {"all", "all_locale", "all_locales", "alllocales"}
_VARIATION_ALIASES = {
    "all": ALL_VARIATIONS,
    "all_variation": ALL_VARIATIONS,
    "all_variations": ALL_VARIATIONS,
    "allvariations": ALL_VARIATIONS,
    "control_group": CAMPAIGN_CONTROL_GROUP,
    "controlgroup": CAMPAIGN_CONTROL_GROUP,
    "campaign_control_group": CAMPAIGN_CONTROL_GROUP,
    "campaign_control": CAMPAIGN_CONTROL_GROUP,
    "ccg": CAMPAIGN_CONTROL_GROUP,
    "global_control_group": GLOBAL_CONTROL_GROUP,
    "global_control": GLOBAL_CONTROL_GROUP,
    "gcg": GLOBAL_CONTROL_GROUP,
}
_SEPARATORS = re.compile(r"[\s\-]+")


def _folded(key: str) -> str:
    return _SEPARATORS.sub("_", key.strip()).lower()


def normalize_platform(key: str) -> tuple[str, bool]:
    """Return the normalized platform of a raw key and whether it is a known platform.

    Args:
        key: The raw key, e.g. ``"android"``, ``"ANDROID"``, ``"ALL_PLATFORMS"``.

    Returns:
        ``(platform, known)``: ``ANDROID``, ``IOS``, ``WEB``, ``MWEB``, ``UNKNOWN``, ``ALL``,
        ``EMAIL``, ``SMS``, or the key upper-cased with ``known`` False.
    """
    folded = _folded(key)
    platform = _PLATFORM_ALIASES.get(folded, folded.upper())
    return platform, platform in KNOWN_PLATFORMS


def normalize_locale(key: str) -> str:
    """Return ``"all"`` for every spelling of the all-locales aggregate, else the key as given."""
    return ALL_LOCALES if _folded(key) in _LOCALE_ALIASES else key.strip()


def normalize_variation(key: str) -> str:
    """Return the normalized variation key.

    ``all_variations`` / ``all_variation`` become ``"all"``; ``control_group`` and
    ``campaign_control_group`` become ``"campaign_control_group"``; ``global_control_group``
    stays; any other variation is lower-cased with spaces as underscores (``"Variation 1"`` →
    ``"variation_1"``).
    """
    folded = _folded(key)
    return _VARIATION_ALIASES.get(folded, folded)


def is_control_group(variation: str) -> bool:
    """True for a normalized control-group variation (users who were *not* sent the message)."""
    return variation in {CAMPAIGN_CONTROL_GROUP, GLOBAL_CONTROL_GROUP}


# Stats platform → the spelling pushed events carry (MoEngage's event platform enum), so the
# daily table joins to pushed events on (day, platform). Platforms without a push spelling
# (MWEB, ALL, and the channel names) keep their stats spelling.
_PUSH_SPELLING = {
    "ANDROID": "ANDROID",
    "IOS": "iOS",
    "WEB": "web",
    "TV": "TV",
    "UNKNOWN": "unknown",
}
_CHANNELS_WITHOUT_DEVICES = frozenset({"EMAIL", "SMS"})


def push_platform(platform: str, channel: str | None = None) -> str:
    """The platform of a daily-table row, spelled as pushed events spell it.

    Args:
        platform: A normalized stats platform (:func:`normalize_platform`).
        channel: The campaign's channel, when known. MoEngage reports email and SMS numbers
            under the platform ``UNKNOWN``; for those channels the row carries the channel
            (``EMAIL``, ``SMS``) instead, so they never join to events of unknown devices.

    Returns:
        ``ANDROID``, ``iOS``, ``web``, ``TV``, ``unknown``, ``EMAIL``, ``SMS``, ``MWEB``,
        ``ALL``, or the platform as given for a key MoEngage does not document.
    """
    if platform == "UNKNOWN" and channel in _CHANNELS_WITHOUT_DEVICES:
        return channel
    return _PUSH_SPELLING.get(platform, platform)
