"""Connection settings read from the ``MOENGAGE_*`` environment variables.

The same five names configure the library, the CLI, the Dagster resources and the emulator:

* ``MOENGAGE_WORKSPACE_ID``: the workspace (formerly "app") id, the Basic-auth username.
* ``MOENGAGE_DATA_API_KEY``: the Data API key (bulk import, users, events, devices).
* ``MOENGAGE_CAMPAIGN_API_KEY``: the campaign/catalog/stats/report key.
* ``MOENGAGE_DC``: the data centre, one of ``01 02 03 04 05 06 101``.
* ``MOENGAGE_BASE_URL``: overrides the data-centre host (for example the local emulator).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

from moengage_pipelines.errors import ConfigError
from moengage_pipelines.redaction import redact_url

__all__ = [
    "DATA_CENTRES",
    "ENV_BASE_URL",
    "ENV_CAMPAIGN_API_KEY",
    "ENV_DATA_API_KEY",
    "ENV_DC",
    "ENV_WORKSPACE_ID",
    "KeyFamily",
    "MoEngageSettings",
]

ENV_WORKSPACE_ID = "MOENGAGE_WORKSPACE_ID"
ENV_DATA_API_KEY = "MOENGAGE_DATA_API_KEY"
ENV_CAMPAIGN_API_KEY = "MOENGAGE_CAMPAIGN_API_KEY"
ENV_DC = "MOENGAGE_DC"
ENV_BASE_URL = "MOENGAGE_BASE_URL"

# Region of each data centre, as MoEngage's API introduction lists them; 101 is documented
# without a region.
DATA_CENTRES: dict[str, str] = {
    "01": "US",
    "02": "EU",
    "03": "India",
    "04": "US",
    "05": "Singapore",
    "06": "Indonesia",
    "101": "unspecified",
}

KeyFamily = Literal["data", "campaign"]


class MoEngageSettings(BaseModel):
    """Where and how to reach one MoEngage workspace.

    Keys are ``SecretStr`` so they never show up in ``repr``, logs or exceptions.

    Attributes:
        workspace_id: Workspace id; the Basic-auth username and the ``MOE-APPKEY`` header.
        data_api_key: Data API key, or None when only campaign APIs are used.
        campaign_api_key: Campaign/catalog/stats/report key, or None when only data APIs are used.
        dc: Data centre, ``01``-``06`` or ``101``.
        base_url: Overrides the data-centre host, e.g. ``http://127.0.0.1:8765`` for the emulator.
    """

    # Validation errors would otherwise quote the input: a key, or a URL with a password.
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    workspace_id: str
    data_api_key: SecretStr | None = None
    campaign_api_key: SecretStr | None = None
    dc: str = "01"
    base_url: str | None = None

    @field_validator("workspace_id")
    @classmethod
    def _workspace_id_not_blank(cls, value: str) -> str:
        if not value or not value.strip():
            raise ValueError(f"{ENV_WORKSPACE_ID} must not be empty")
        return value.strip()

    @field_validator("dc", mode="before")
    @classmethod
    def _known_dc(cls, value: object) -> str:
        text = str(value).strip()
        # Accept "1" / "dc-01" / "DC_01" as spelled in some dashboards and third-party tools.
        text = text.upper().removeprefix("DC").lstrip("-_ ")
        if text.isdigit() and len(text) == 1:
            text = f"0{text}"
        if text not in DATA_CENTRES:
            known = ", ".join(DATA_CENTRES)
            raise ValueError(f"unknown MoEngage data centre {value!r}; expected one of {known}")
        return text

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"{ENV_BASE_URL} must start with http:// or https://, got {redact_url(value)!r}"
            )
        return value

    @property
    def api_base(self) -> str:
        """The root URL requests go to: ``base_url`` if set, else ``https://api-{dc}.moengage.com``."""
        return self.base_url or f"https://api-{self.dc}.moengage.com"

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Keys are SecretStr already; a base URL may carry a password of its own.
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "base_url" and value else value

    @property
    def api_base_redacted(self) -> str:
        """``api_base`` with any password in it replaced by ``***``, for reprs, logs and keys."""
        return redact_url(self.api_base)

    def key(self, family: KeyFamily) -> str:
        """Return the API key of a key family, or raise a ConfigError naming the missing variable.

        Args:
            family: ``"data"`` for the Data APIs, ``"campaign"`` for campaign, catalog, stats and
                report APIs.

        Raises:
            ConfigError: If that key is not configured.
        """
        secret = self.data_api_key if family == "data" else self.campaign_api_key
        if secret is None or not secret.get_secret_value():
            name = ENV_DATA_API_KEY if family == "data" else ENV_CAMPAIGN_API_KEY
            raise ConfigError(f"{name} is not set; the {family} APIs need it")
        return secret.get_secret_value()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MoEngageSettings:
        """Build settings from ``MOENGAGE_*`` variables.

        Args:
            environ: Mapping to read instead of ``os.environ`` (tests).

        Raises:
            ConfigError: If the workspace id is missing or a value is invalid. The message
                names the variable, never a key's value.
        """
        env = os.environ if environ is None else environ
        workspace_id = env.get(ENV_WORKSPACE_ID, "").strip()
        if not workspace_id:
            raise ConfigError(f"{ENV_WORKSPACE_ID} is not set")
        try:
            return cls(
                workspace_id=workspace_id,
                data_api_key=env.get(ENV_DATA_API_KEY) or None,
                campaign_api_key=env.get(ENV_CAMPAIGN_API_KEY) or None,
                dc=env.get(ENV_DC, "01") or "01",
                base_url=env.get(ENV_BASE_URL) or None,
            )
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            messages = "; ".join(err["msg"].removeprefix("Value error, ") for err in exc.errors())
            raise ConfigError(messages) from None
