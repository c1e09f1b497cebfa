"""Keeping passwords and API keys out of every text the project shows, logs or stores.

* :func:`redact_url` hides the password of a URL (``user:password@``, a ``password=`` query
  parameter) or of a libpq ``key=value`` connection string, leaving the rest as written.
* :func:`url_secrets` lists the secrets a URL carries, as written and decoded.
* :func:`scrub_secrets` removes known secrets from free text (driver errors, server answers) in
  every form a server or library may echo them: raw, percent-encoded, JSON-escaped, and inside
  HTTP Basic credentials.

Only the standard library is used, so every layer can depend on this module.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote, quote_plus, unquote, unquote_plus

__all__ = ["REDACTED", "redact_url", "scrub_secrets", "url_secrets"]

REDACTED = "***"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# libpq key=value strings: password=value or password = 'quoted \' value'.
_LIBPQ_PASSWORD = re.compile(r"(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'?|[^\s']+)")
# A Basic credential echoed as a header, in JSON or in a Python repr: always hidden.
_AUTHORIZATION_BASIC = re.compile(
    r"""(?i)(authorization["']?\s*[:=]\s*["']?\s*basic\s+)([^\s"',;}\]]+)"""
)
# "Basic <token>" anywhere else: hidden when the token decodes to ``user:password``.
_BASIC_TOKEN = re.compile(r"(?i)(\bbasic\s+)([A-Za-z0-9+/_\-]{4,}={0,2})(?![A-Za-z0-9+/=_\-])")


def redact_url(url: str) -> str:
    """Return ``url`` with every password it carries replaced by ``***``.

    The password of the user info (``scheme://user:password@host``), the value of each
    ``password=`` query parameter, and, for a libpq ``key=value`` string, the value of
    ``password=`` are hidden; everything else is returned exactly as written, so a URL without
    a password comes back unchanged.

    The user info is taken to end at the last ``@`` before the first ``/`` after ``//``, as
    libpq reads it, so a password holding a raw ``@``, ``?`` or ``#`` is hidden whole.

    Args:
        url: A URL or a libpq connection string.

    Returns:
        The same text with its secrets hidden.
    """
    text = str(url)
    for start, end in sorted(_secret_spans(text), reverse=True):
        text = text[:start] + REDACTED + text[end:]
    return text


def url_secrets(url: str) -> list[str]:
    """Return the secrets ``url`` carries, both as written and percent-decoded.

    Args:
        url: A URL or a libpq connection string.

    Returns:
        The passwords found (possibly empty), for :func:`scrub_secrets`.
    """
    found: list[str] = []
    libpq = _SCHEME.match(url) is None
    for start, end in _secret_spans(url):
        written = url[start:end]
        forms = [written, unquote(written), unquote_plus(written)]
        if libpq and len(written) > 1 and written[0] == written[-1] == "'":
            # A quoted libpq value: the password is the text between the quotes, unescaped.
            forms.append(re.sub(r"\\(.)", r"\1", written[1:-1]))
        for form in forms:
            if form and form not in found:
                found.append(form)
    return found


def scrub_secrets(
    text: str, secrets: Iterable[str | None], *, basic_auth_user: str | None = None
) -> str:
    """Replace every form of each secret in ``text`` with ``***``.

    Hidden forms: the secret itself, its percent-encodings and JSON escapings; with
    ``basic_auth_user``, the base64 ``user:secret`` token of HTTP Basic auth (padded or not,
    standard or URL-safe alphabet, percent-encoded). Independently of the secrets given, the
    token of any ``Authorization: Basic <token>`` and of any ``Basic <token>`` that decodes
    to ``user:password`` is hidden, so a server echoing its request headers leaks nothing.

    Args:
        text: Free text: an error message, a response body, a log line.
        secrets: The secrets to hide (empty or None entries are skipped).
        basic_auth_user: The Basic-auth user name the secrets were sent with, if any.

    Returns:
        The text with the secrets replaced.
    """
    forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        forms.update(_written_forms(secret))
        if basic_auth_user is not None:
            credentials = f"{basic_auth_user}:{secret}".encode(errors="surrogatepass")
            token = base64.b64encode(credentials).decode("ascii")
            forms.update(_token_forms(token))
    # A form made only of asterisks would match its own replacement forever.
    ordered = sorted((f for f in forms if f.strip("*")), key=len, reverse=True)
    # Longest first, so a secret inside a longer form does not break that form apart; repeated
    # because a replacement can complete a secret that begins or ends with "*".
    while True:
        scrubbed = text
        for form in ordered:
            scrubbed = scrubbed.replace(form, REDACTED)
        if scrubbed == text:
            break
        text = scrubbed
    text = _AUTHORIZATION_BASIC.sub(lambda m: m.group(1) + REDACTED, text)
    return _BASIC_TOKEN.sub(_hide_credential_token, text)


def _written_forms(secret: str) -> set[str]:
    """The secret as a URL, a form body or a JSON document would carry it."""
    # "surrogatepass": a key read from a badly encoded environment must not make this raise.
    forms = {
        secret,
        quote(secret, safe="", errors="surrogatepass"),
        quote(secret, errors="surrogatepass"),
        quote_plus(secret, errors="surrogatepass"),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    # Percent-encoders disagree on the case of hex digits.
    forms |= {_lower_hex(form) for form in forms}
    return forms


def _token_forms(token: str) -> set[str]:
    """A base64 token with and without padding, in both alphabets, and percent-encoded."""
    urlsafe = token.replace("+", "-").replace("/", "_")
    forms = {token, token.rstrip("="), urlsafe, urlsafe.rstrip("=")}
    forms |= {quote(form, safe="") for form in forms}
    forms |= {json.dumps(form)[1:-1] for form in forms}
    return forms


def _lower_hex(text: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), text)


def _hide_credential_token(match: re.Match[str]) -> str:
    token = match.group(2)
    padded = token + "=" * (-len(token) % 4)
    for alphabet in (None, b"-_"):
        try:
            decoded = base64.b64decode(padded, altchars=alphabet, validate=True)
        except (binascii.Error, ValueError):
            continue
        if b":" in decoded:
            return match.group(1) + REDACTED
    return match.group(0)


def _secret_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield the ``(start, end)`` offsets of each password in a URL or libpq string."""
    scheme = _SCHEME.match(text)
    if scheme is None:
        for match in _LIBPQ_PASSWORD.finditer(text):
            yield match.span(1)
        return
    position = scheme.end()
    if text.startswith("//", position):
        authority_start = position + 2
        slash = text.find("/", authority_start)
        authority_end = len(text) if slash < 0 else slash
        at = text.rfind("@", authority_start, authority_end)
        if at >= 0:
            colon = text.find(":", authority_start, at)
            if colon >= 0:
                yield colon + 1, at
            position = at + 1
    yield from _query_password_spans(text, position)


def _query_password_spans(text: str, position: int) -> Iterator[tuple[int, int]]:
    """Yield the value offsets of ``password=`` parameters in the query after ``position``."""
    question = text.find("?", position)
    if question < 0:
        return
    fragment = text.find("#", question)
    end = len(text) if fragment < 0 else fragment
    start = question + 1
    while start <= end:
        ampersand = text.find("&", start, end)
        stop = end if ampersand < 0 else ampersand
        equals = text.find("=", start, stop)
        if equals >= 0 and equals + 1 < stop:
            key = unquote_plus(text[start:equals]).strip().lower()
            if key == "password":
                yield equals + 1, stop
        start = stop + 1
