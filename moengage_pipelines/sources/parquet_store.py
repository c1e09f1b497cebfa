"""Parquet on object stores: ``s3://`` and ``gs://`` locations opened through pyarrow's filesystems.

A location is a URI naming one object, a prefix (a "folder", hive partitions included) or a
glob (``s3://bucket/events/**/*.parquet``). Options go in the query string, as pyarrow reads
them: ``?endpoint_override=127.0.0.1:9000&scheme=http`` for an S3-compatible store,
``region=``, ``anonymous=true`` for a public bucket. Credentials come from the standard chain
of each store (``AWS_*`` variables, ``AWS_PROFILE`` and the shared files, web identity,
instance roles; ``GOOGLE_APPLICATION_CREDENTIALS`` and the metadata server for GCS), and
``AWS_ENDPOINT_URL`` overrides the S3 endpoint as the AWS tools do. Credentials written into
the URI itself are accepted but never shown: every text built here uses ``shown_uri``.

Store errors become one ``SourceError`` naming the location and the cause (no such bucket,
no such prefix, access denied, credentials missing), never a traceback or a secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import pyarrow.fs as pafs

from moengage_pipelines.redaction import REDACTED, scrub_secrets
from moengage_pipelines.sources.errors import SourceError, SourceNotFoundError

__all__ = ["StoreLocation", "is_object_store", "open_location", "shown_uri"]

_SCHEMES = ("s3", "gs", "gcs")
_GLOB_CHARS = "*["
# Query options that carry a secret (pyarrow accepts keys in the URI).
_SECRET_OPTIONS = frozenset({"secret_key", "session_token", "access_token", "credentials"})
_ACCESS_DENIED = (
    "ACCESS_DENIED",
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
    "HTTP status 401",
    "HTTP status 403",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
)
_AWS_CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def is_object_store(path: object) -> bool:
    """Tell whether ``path`` is an object-store URI (``s3://``, ``gs://`` or ``gcs://``)."""
    return isinstance(path, str) and path.split("://", 1)[0].lower() in _SCHEMES and "://" in path


def shown_uri(uri: str) -> str:
    """Return ``uri`` without the credentials it may carry (user info, secret query options)."""
    userinfo, plain = _split_userinfo(uri)
    parts = urlsplit(plain)
    query = [
        (key, REDACTED if key.lower() in _SECRET_OPTIONS else value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    ]
    text = f"{parts.scheme}://{f'{REDACTED}@' if userinfo else ''}{parts.netloc}{parts.path}"
    return f"{text}?{urlencode(query, safe=':/*')}" if query else text


def _split_userinfo(uri: str) -> tuple[str | None, str]:
    """Split ``access:secret@`` off ``uri``: ``(userinfo or None, uri without it)``.

    The user info ends at the last ``@`` before the query, not at the first ``/``: an AWS
    secret often holds a ``/``, and one written unencoded must still be found to be hidden.
    """
    scheme, _, rest = uri.partition("://")
    location, mark, query = rest.partition("?")
    userinfo, at, tail = location.rpartition("@")
    if not at:
        return None, uri
    return userinfo, f"{scheme}://{tail}{mark}{query}"


@dataclass(frozen=True)
class StoreLocation:
    """An object-store URI resolved to a pyarrow filesystem.

    Attributes:
        filesystem: The store's pyarrow filesystem (credentials resolved by pyarrow).
        files: The objects to read, for an object or a glob; empty for a prefix.
        prefix: The ``bucket/prefix`` to read recursively (hive partitions), or ``None``.
        shown: The URI without its credentials, for messages.
    """

    filesystem: pafs.FileSystem
    files: list[str]
    prefix: str | None
    shown: str


def open_location(uri: str) -> StoreLocation:
    """Resolve ``uri`` to its filesystem and the objects (or prefix) it names.

    Args:
        uri: ``s3://bucket/key``, ``s3://bucket/prefix/``, ``s3://bucket/prefix/**/*.parquet``,
            or the same with ``gs://``, optionally followed by ``?option=value&...``.

    Returns:
        The location, with the matching objects listed (sorted) for a glob.

    Raises:
        SourceNotFoundError: If the bucket, the prefix or every glob match is missing.
        SourceError: If the URI is malformed or the store refuses access.
    """
    shown = shown_uri(uri)
    userinfo, plain = _split_userinfo(uri)
    parts = urlsplit(plain)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not bucket:
        raise SourceError(f"{shown} names no bucket")
    cut = min((key.find(c) for c in _GLOB_CHARS if c in key), default=-1)
    # A glob is listed from the last whole folder before its first wildcard.
    static = key if cut < 0 else key[:cut].rpartition("/")[0]
    options = parse_qsl(parts.query, keep_blank_values=True)
    anonymous = any(k == "anonymous" and v.lower() in ("1", "true") for k, v in options)
    credentials = f"{userinfo}@" if userinfo else ""
    query = f"?{parts.query}" if parts.query else ""
    base = f"{parts.scheme}://{credentials}{parts.netloc}/{static}{query}"
    with store_errors(shown, uri):
        try:
            if anonymous:
                filesystem = _anonymous_filesystem(parts.scheme, bucket, dict(options))
                base_path = f"{bucket}/{static}"
            else:
                filesystem, base_path = pafs.FileSystem.from_uri(base)
        except (ValueError, TypeError, NotImplementedError) as exc:
            hint = (
                " (a key pair in the URI is percent-encoded: %2F for /, %2B for +)"
                if userinfo else ""
            )
            raise SourceError(f"cannot open {shown}: {_first_line(exc, uri)}{hint}") from None
        if cut >= 0:
            pattern = _glob_regex(f"{bucket}/{key}")
            selector = pafs.FileSelector(base_path, allow_not_found=True, recursive=True)
            found = filesystem.get_file_info(selector)
            files = sorted(
                info.path for info in found
                if info.type == pafs.FileType.File and pattern.match(info.path)
            )
            if not files:
                _require_bucket(filesystem, bucket, shown)
                raise SourceNotFoundError(f"no objects match {shown}")
            return StoreLocation(filesystem, files, None, shown)
        info = filesystem.get_file_info(base_path.rstrip("/"))
        if info.type == pafs.FileType.File:
            return StoreLocation(filesystem, [info.path], None, shown)
        if info.type == pafs.FileType.NotFound:
            _require_bucket(filesystem, bucket, shown)
            raise SourceNotFoundError(
                f"prefix {static!r} does not exist in bucket {bucket!r} ({shown})"
            )
        return StoreLocation(filesystem, [], base_path.rstrip("/"), shown)


@contextmanager
def store_errors(shown: str, uri: str) -> Iterator[None]:
    """Turn a store's ``OSError`` into one ``SourceError`` saying what went wrong.

    Args:
        shown: The location as messages show it.
        uri: The location as given, whose secrets are removed from any echoed text.
    """
    try:
        yield
    except SourceError:
        raise
    except OSError as exc:
        text = str(exc)
        if "NO_SUCH_BUCKET" in text or "bucket does not exist" in text.lower():
            raise SourceNotFoundError(f"the bucket of {shown} does not exist") from None
        if "NETWORK_CONNECTION" in text:
            raise SourceError(f"cannot reach {shown}: {_first_line(exc, uri)}") from None
        missing = _credentials_missing(uri)
        if missing:
            raise SourceError(f"cannot read {shown}: {missing}") from None
        if any(marker in text for marker in _ACCESS_DENIED):
            raise SourceError(
                f"access to {shown} was denied: the credentials are invalid or lack "
                f"permission ({_first_line(exc, uri)})"
            ) from None
        raise SourceError(f"cannot read {shown}: {_first_line(exc, uri)}") from None


def _anonymous_filesystem(scheme: str, bucket: str, options: dict[str, str]) -> pafs.FileSystem:
    """A filesystem sending unsigned requests, for a public bucket.

    pyarrow's URIs have no option for it, so the few options that apply are passed by hand.
    """
    options.pop("anonymous")
    allowed = {"endpoint_override", "scheme", "region"} if scheme.lower() == "s3" else {
        "endpoint_override", "scheme", "project_id"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"with anonymous=true the options are {sorted(allowed)}, not {unknown}")
    if scheme.lower() != "s3":
        return pafs.GcsFileSystem(anonymous=True, **options)
    if "region" not in options and "endpoint_override" not in options:
        options["region"] = pafs.resolve_s3_region(bucket)
    return pafs.S3FileSystem(anonymous=True, **options)


def _require_bucket(filesystem: pafs.FileSystem, bucket: str, shown: str) -> None:
    if filesystem.get_file_info(bucket).type == pafs.FileType.NotFound:
        raise SourceNotFoundError(f"the bucket of {shown} does not exist")


def _credentials_missing(uri: str) -> str | None:
    """Say which credentials to set when none of the store's standard sources has any.

    Instance roles and the GCE metadata server cannot be seen from here without a request, so
    this is only asked after the store has refused a request.
    """
    userinfo, plain = _split_userinfo(uri)
    parts = urlsplit(plain)
    options = {key.lower(): value for key, value in parse_qsl(parts.query)}
    if userinfo or options.get("anonymous", "").lower() in ("1", "true"):
        return None
    if "access_key" in options or "access_token" in options or "credentials" in options:
        return None
    if parts.scheme.lower() == "s3":
        files = [
            os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or Path.home() / ".aws/credentials",
            os.environ.get("AWS_CONFIG_FILE") or Path.home() / ".aws/config",
        ]
        if any(os.environ.get(name) for name in _AWS_CREDENTIAL_VARIABLES):
            return None
        if any(Path(file).is_file() for file in files):
            return None
        return (
            "no AWS credentials were found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "or AWS_PROFILE (or add anonymous=true for a public bucket)"
        )
    if os.environ.get("GOOGLE_APPLICATION_CREDENTIALS"):
        return None
    adc = Path.home() / ".config/gcloud/application_default_credentials.json"
    if adc.is_file():
        return None
    return "no Google Cloud credentials were found; set GOOGLE_APPLICATION_CREDENTIALS"


def _first_line(exc: BaseException, uri: str) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # A store may echo the request; keep any credential the URI carried out of it.
    userinfo, plain = _split_userinfo(uri)
    secrets = [value for key, value in parse_qsl(urlsplit(plain).query)
               if key.lower() in _SECRET_OPTIONS and value]
    if userinfo:
        # The whole user info, and the secret after the access key, as written and decoded.
        secret = userinfo.partition(":")[2]
        secrets += [userinfo, secret, unquote(secret)]
    return scrub_secrets(text, [secret for secret in secrets if secret])


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Compile a glob over object keys: ``*`` stays inside one level, ``**`` crosses levels."""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:[^/]*/)*")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "[" and "]" in pattern[index + 2 :]:
            end = pattern.index("]", index + 2)
            body = pattern[index + 1 : end]
            negate = body.startswith("!")
            body = re.escape(body[1:] if negate else body).replace(r"\-", "-")
            out.append(f"[{'^' if negate else ''}{body}]")
            index = end + 1
        else:
            out.append(re.escape(pattern[index]))
            index += 1
    return re.compile("".join(out) + r"\Z")
