"""``SnowflakeSettings``: where and how to log in to Snowflake, from a URL and ``SNOWFLAKE_*``.

URL form (every part optional; what the URL leaves out comes from the environment)::

    snowflake://user[:password]@account/database/schema?warehouse=WH&role=ROLE

Environment variables: ``SNOWFLAKE_ACCOUNT``, ``SNOWFLAKE_USER``, ``SNOWFLAKE_PASSWORD``,
``SNOWFLAKE_PRIVATE_KEY_PATH``, ``SNOWFLAKE_PRIVATE_KEY_PASSPHRASE``, ``SNOWFLAKE_WAREHOUSE``,
``SNOWFLAKE_ROLE``, ``SNOWFLAKE_DATABASE``, ``SNOWFLAKE_SCHEMA``. Key-pair auth is used when a
private key path is set (``?private_key_path=`` or the variable), password auth otherwise. The
passphrase is read from the environment only, so it never sits in a URL or a YAML file.

``host``, ``port`` and ``protocol`` query parameters reach a private-link host or a local
stand-in; ``login_timeout`` bounds the login retries (seconds).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from moengage_pipelines.redaction import REDACTED, redact_url
from moengage_pipelines.sources.errors import SourceError
from moengage_pipelines.sources.extras import require_extra

__all__ = ["ENV_PREFIX", "SnowflakeSettings"]

ENV_PREFIX = "SNOWFLAKE_"
_QUERY_KEYS = frozenset(
    {"warehouse", "role", "private_key_path", "host", "port", "protocol", "login_timeout"}
)
_DEFAULT_LOGIN_TIMEOUT = 60


@dataclass(frozen=True)
class SnowflakeSettings:
    """One Snowflake login. ``repr`` and ``describe()`` never show the password or passphrase.

    Attributes:
        account: Account identifier (``orgname-account`` or a locator).
        user: Login name.
        password: Password (password auth), or None.
        private_key_path: PEM private key file (key-pair auth), or None.
        private_key_passphrase: Passphrase of an encrypted private key, or None.
        warehouse, role, database, schema: Defaults of the Snowflake connection (None: the
            user's defaults).
        host, port, protocol: Endpoint override (private link, a local stand-in).
        login_timeout: Seconds the connector keeps retrying its login.
    """

    account: str
    user: str
    password: str | None = field(default=None, repr=False)
    private_key_path: str | None = None
    private_key_passphrase: str | None = field(default=None, repr=False)
    warehouse: str | None = None
    role: str | None = None
    database: str | None = None
    schema: str | None = None
    host: str | None = None
    port: int | None = None
    protocol: str | None = None
    login_timeout: int = _DEFAULT_LOGIN_TIMEOUT

    @classmethod
    def from_url(
        cls, url: str = "snowflake://", env: Mapping[str, str] | None = None
    ) -> SnowflakeSettings:
        """Read a ``snowflake://`` URL, filling what it leaves out from ``SNOWFLAKE_*``.

        Args:
            url: The URL (``snowflake://`` alone takes everything from the environment).
            env: The environment (default ``os.environ``).

        Returns:
            The settings.

        Raises:
            SourceError: If the URL is malformed or the account, user or credentials are
                missing (the message names the variables to set, never a secret).
        """
        env = os.environ if env is None else env
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "snowflake":
            raise SourceError(f"not a snowflake:// URL: {_shown(url)}")
        query = dict(parse_qsl(parts.query))
        unknown = sorted(set(query) - _QUERY_KEYS)
        if unknown:
            raise SourceError(
                f"unknown snowflake:// URL parameter(s) {unknown}; known: {sorted(_QUERY_KEYS)}"
            )
        path = [unquote(piece) for piece in parts.path.split("/") if piece]
        if len(path) > 2:
            raise SourceError(f"a snowflake:// URL path is /database/schema: {_shown(url)}")

        def pick(given: str | None, name: str) -> str | None:
            return given or env.get(ENV_PREFIX + name) or None

        netloc = parts.netloc.rpartition("@")
        userinfo = netloc[0].partition(":") if netloc[1] else ("", "", "")
        values = {
            "account": pick(unquote(netloc[2]), "ACCOUNT"),
            "user": pick(unquote(userinfo[0]), "USER"),
            "password": pick(unquote(userinfo[2]), "PASSWORD"),
            "private_key_path": pick(query.get("private_key_path"), "PRIVATE_KEY_PATH"),
            "private_key_passphrase": pick(None, "PRIVATE_KEY_PASSPHRASE"),
            "warehouse": pick(query.get("warehouse"), "WAREHOUSE"),
            "role": pick(query.get("role"), "ROLE"),
            "database": pick(path[0] if path else None, "DATABASE"),
            "schema": pick(path[1] if len(path) > 1 else None, "SCHEMA"),
        }
        missing = [name for name in ("account", "user") if not values[name]]
        if missing:
            names = " and ".join(ENV_PREFIX + name.upper() for name in missing)
            raise SourceError(f"Snowflake {' and '.join(missing)} missing: set {names} or "
                              "write snowflake://user@account/...")
        if not (values["password"] or values["private_key_path"]):
            raise SourceError(
                "Snowflake credentials missing: set SNOWFLAKE_PRIVATE_KEY_PATH (key-pair auth) "
                "or SNOWFLAKE_PASSWORD"
            )
        return cls(
            **values,
            host=query.get("host"),
            port=_integer(query, "port"),
            protocol=query.get("protocol"),
            login_timeout=_integer(query, "login_timeout") or _DEFAULT_LOGIN_TIMEOUT,
        )

    @property
    def auth(self) -> str:
        """``"key-pair"`` or ``"password"``."""
        return "key-pair" if self.private_key_path else "password"

    def describe(self) -> str:
        """``snowflake://user@account/db/schema?warehouse=..&role=..`` without any secret."""
        path = "/".join(part for part in (self.database, self.schema) if part)
        query = "&".join(
            f"{name}={value}"
            for name, value in (("warehouse", self.warehouse), ("role", self.role))
            if value
        )
        return (f"snowflake://{self.user}@{self.account}/{path}" + (f"?{query}" if query else "")
                + f" ({self.auth} auth)")

    def secrets(self) -> list[str]:
        """The secrets of this login, for scrubbing driver messages."""
        return [s for s in (self.password, self.private_key_passphrase) if s]

    def connect_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``snowflake.connector.connect``.

        Raises:
            SourceError: If the private key cannot be read or decrypted.
        """
        arguments: dict[str, Any] = {
            "account": self.account,
            "user": self.user,
            "login_timeout": self.login_timeout,
            # Windows are given in UTC; naive TIMESTAMP_LTZ values are shown in it too.
            "session_parameters": {"TIMEZONE": "UTC"},
        }
        for name in ("warehouse", "role", "database", "schema", "host", "port", "protocol"):
            value = getattr(self, name)
            if value is not None:
                arguments[name] = value
        if self.private_key_path:
            arguments["private_key"] = self._private_key_der()
        else:
            arguments["password"] = self.password
        return arguments

    def _private_key_der(self) -> bytes:
        serialization = require_extra(
            "cryptography.hazmat.primitives.serialization",
            extra="snowflake", what="Snowflake key-pair auth",
        )
        path = Path(self.private_key_path or "").expanduser()
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise SourceError(
                f"cannot read the Snowflake private key {str(path)!r}: {exc.strerror}"
            ) from None
        passphrase = self.private_key_passphrase.encode() if self.private_key_passphrase else None
        try:
            key = serialization.load_pem_private_key(pem, password=passphrase)
        except (ValueError, TypeError) as exc:
            hint = ("" if passphrase else "; if it is encrypted, set "
                    "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
            reason = _first_line(str(exc)).replace(self.private_key_passphrase or "\0", REDACTED)
            raise SourceError(
                f"cannot load the Snowflake private key {str(path)!r} ({reason}){hint}"
            ) from None
        return key.private_bytes(
            encoding=serialization.Encoding.DER,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )


def _integer(query: Mapping[str, str], name: str) -> int | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise SourceError(f"snowflake:// URL parameter {name}={text!r} is not a number") from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unreadable"


def _shown(url: str) -> str:
    return repr(redact_url(url))
