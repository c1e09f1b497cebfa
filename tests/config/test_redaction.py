"""Passwords and keys never survive redact_url / scrub_secrets, whatever their characters."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from moengage_pipelines.redaction import REDACTED, redact_url, scrub_secrets, url_secrets

# Characters that end or split a URL part, and texts that look like percent-encodings.
_DELIMITERS = list("@:/%#?&=+ ;'\"\\")
_PERCENT_LOOKALIKES = ["%40", "%2F", "%2f", "%25", "%3A", "%", "%zz", "%%41"]

secret_texts = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(_DELIMITERS),
        st.sampled_from(_PERCENT_LOOKALIKES),
    ),
    min_size=1,
    max_size=16,
).map("".join)
plain_texts = st.text(max_size=12)
hosts = st.one_of(
    st.from_regex(r"[a-z][a-z0-9\-]{0,10}(\.[a-z]{2,6}){0,2}", fullmatch=True),
    st.just("127.0.0.1"),
    st.just("[::1]"),
)
schemes = st.one_of(
    st.sampled_from(["postgresql", "postgres", "http", "https", "redis", "mysql"]),
    st.from_regex(r"[a-z][a-z0-9+.\-]{0,8}", fullmatch=True),
)
query_items = st.lists(
    st.tuples(plain_texts.filter(lambda k: k.strip().lower() != "password"), plain_texts),
    max_size=3,
)


@dataclass(frozen=True)
class UrlParts:
    scheme: str
    user: str
    host: str
    port: int | None
    path_segments: list[str]
    query: list[tuple[str, str]]
    password_key: str
    fragment: str | None

    def build(self, userinfo_password: str | None, query_password: str | None) -> str:
        """The URL; passwords go in as given (already written, i.e. encoded as the URL has them)."""
        userinfo = quote(self.user, safe="")
        if userinfo_password is not None:
            userinfo += ":" + userinfo_password
        authority = f"{userinfo}@{self.host}" if userinfo or userinfo_password else self.host
        if self.port is not None:
            authority += f":{self.port}"
        # Path segments may hold raw "@" and ":", which RFC 3986 allows there.
        path = "".join("/" + quote(segment, safe="@:") for segment in self.path_segments)
        query = urlencode(self.query)
        if query_password is not None:
            password_item = f"{quote(self.password_key)}={query_password}"
            query = f"{query}&{password_item}" if query else password_item
        url = f"{self.scheme}://{authority}{path}"
        if query:
            url += "?" + query
        if self.fragment is not None:
            url += "#" + quote(self.fragment, safe="")
        return url


url_parts = st.builds(
    UrlParts,
    scheme=schemes,
    user=plain_texts,
    host=hosts,
    port=st.none() | st.integers(1, 65_535),
    path_segments=st.lists(plain_texts, max_size=3),
    query=query_items,
    password_key=st.sampled_from(["password", "PASSWORD", "Password"]),
    fragment=st.none() | plain_texts,
)
# How a password is written in the user info: fully percent-encoded, or with the characters
# user info may hold raw (":" and "@" among them) left as they are.
writings = st.sampled_from(["", ":@!$&'()*+,;="])


@given(
    parts=url_parts,
    password=secret_texts,
    query_password=st.none() | secret_texts,
    in_userinfo=st.booleans(),
    safe=writings,
)
def test_no_form_of_a_password_survives_redaction(
    parts: UrlParts, password: str, query_password: str | None, in_userinfo: bool, safe: str
) -> None:
    assume(in_userinfo or query_password is not None)
    written = quote(password, safe=safe) if in_userinfo else None
    written_query = quote(query_password, safe="") if query_password is not None else None
    url = parts.build(written, written_query)
    expected = parts.build(
        REDACTED if in_userinfo else None, REDACTED if query_password is not None else None
    )
    shown = [password, written] if in_userinfo else []
    forms = [form for form in (*shown, query_password, written_query) if form]
    message = "could not connect to {}: refused"
    # A password that is part of what may be shown (a host, "***") cannot be told apart.
    assume(not any(form in message.format(expected) for form in forms))

    redacted = redact_url(url)

    assert redacted == expected
    for form in forms:
        assert form not in redacted
    # Every form is also known to scrub_secrets, so a driver echoing the URL leaks nothing.
    scrubbed = scrub_secrets(message.format(url), url_secrets(url))
    for form in forms:
        assert form not in scrubbed


@given(parts=url_parts)
def test_a_url_without_password_comes_back_unchanged(parts: UrlParts) -> None:
    url = parts.build(None, None)
    assert redact_url(url) == url
    assert url_secrets(url) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("host=h user=u password=hunter2", "host=h user=u password=***"),
        ("host=h password = 'two words' user=u", "host=h password = *** user=u"),
        ("postgresql://u:ab#cd@h/db", "postgresql://u:***@h/db"),
        ("postgres://u:a?b@h:5/db?sslmode=require", "postgres://u:***@h:5/db?sslmode=require"),
        ("http://u@h/p@x:y", "http://u@h/p@x:y"),
        ("duckdb:///data/w.duckdb", "duckdb:///data/w.duckdb"),
    ],
)
def test_redact_url_examples(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def _basic_token(workspace: str, key: str) -> str:
    return base64.b64encode(f"{workspace}:{key}".encode()).decode("ascii")


@given(
    workspace=st.text(min_size=1),
    key=st.text(min_size=1),
    fillers=st.lists(st.text(), min_size=5, max_size=5),
)
def test_scrubbing_leaves_no_form_of_the_key(workspace: str, key: str, fillers: list[str]) -> None:
    token = _basic_token(workspace, key)
    header = f"Authorization: Basic {token}"
    encoded_key = quote(key, safe="")
    json_key = json.dumps(key)[1:-1]
    embedded = [key, token, header, encoded_key, json_key]
    text = "".join(filler + part for filler, part in zip(fillers, embedded, strict=True))
    skeleton = "".join(filler + REDACTED for filler in fillers)
    leaks = [key, token, encoded_key, json_key]
    assume(not any(form in skeleton for form in leaks))

    scrubbed = scrub_secrets(text, [key], basic_auth_user=workspace)

    for form in [*leaks, header]:
        assert form not in scrubbed


def test_scrubbing_hides_basic_credentials_it_was_not_told_about() -> None:
    token = _basic_token("OTHER_WORKSPACE", "other-key")
    echoed = (
        f'{{"headers": {{"authorization": "Basic {token}"}}}} '
        f"Authorization=basic {token.rstrip('=')}; proxy said Basic {token}"
    )
    scrubbed = scrub_secrets(echoed, [])
    assert token.rstrip("=") not in scrubbed
    assert scrubbed.count(REDACTED) == 3
    # Ordinary words after "Basic" are not credentials.
    assert scrub_secrets("Basic plan, basic auth required", []) == (
        "Basic plan, basic auth required"
    )


def test_scrubbing_skips_empty_secrets_and_keeps_other_text() -> None:
    assert scrub_secrets("nothing secret here", ["", None]) == "nothing secret here"
    assert scrub_secrets("key=abc%2F1 and abc/1", ["abc/1"]) == "key=*** and ***"
