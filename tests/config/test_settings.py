"""MOENGAGE_* variables → settings, with clear errors and no key in any message."""

from __future__ import annotations

import pytest

from moengage_pipelines.config import DATA_CENTRES, MoEngageSettings
from moengage_pipelines.errors import ConfigError

ENV = {
    "MOENGAGE_WORKSPACE_ID": "WS123",
    "MOENGAGE_DATA_API_KEY": "data-secret-value",
    "MOENGAGE_CAMPAIGN_API_KEY": "campaign-secret-value",
}


@pytest.mark.parametrize("dc", sorted(DATA_CENTRES))
def test_every_documented_data_centre_maps_to_its_host(dc: str) -> None:
    settings = MoEngageSettings.from_env({**ENV, "MOENGAGE_DC": dc})
    assert settings.api_base == f"https://api-{dc}.moengage.com"


@pytest.mark.parametrize(("spelling", "dc"), [("1", "01"), ("DC-02", "02"), ("dc_04", "04")])
def test_common_spellings_of_a_data_centre_are_understood(spelling: str, dc: str) -> None:
    assert MoEngageSettings.from_env({**ENV, "MOENGAGE_DC": spelling}).dc == dc


def test_default_data_centre_is_01() -> None:
    assert MoEngageSettings.from_env(ENV).api_base == "https://api-01.moengage.com"


@pytest.mark.parametrize("dc", ["07", "00", "100", "eu", "1O"])
def test_unknown_data_centre_is_a_clear_error(dc: str) -> None:
    with pytest.raises(ConfigError, match="unknown MoEngage data centre") as raised:
        MoEngageSettings.from_env({**ENV, "MOENGAGE_DC": dc})
    assert "01, 02, 03, 04, 05, 06, 101" in str(raised.value)


def test_base_url_overrides_the_data_centre_host() -> None:
    settings = MoEngageSettings.from_env(
        {**ENV, "MOENGAGE_DC": "03", "MOENGAGE_BASE_URL": "http://127.0.0.1:8765/"}
    )
    assert settings.api_base == "http://127.0.0.1:8765"


def test_base_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match="MOENGAGE_BASE_URL must start with http"):
        MoEngageSettings.from_env({**ENV, "MOENGAGE_BASE_URL": "ftp://example.com"})


def test_missing_workspace_id_names_the_variable() -> None:
    env = {key: value for key, value in ENV.items() if key != "MOENGAGE_WORKSPACE_ID"}
    with pytest.raises(ConfigError, match="MOENGAGE_WORKSPACE_ID is not set"):
        MoEngageSettings.from_env(env)


@pytest.mark.parametrize(
    ("family", "variable"),
    [("data", "MOENGAGE_DATA_API_KEY"), ("campaign", "MOENGAGE_CAMPAIGN_API_KEY")],
)
def test_missing_key_is_reported_when_that_family_is_used(family: str, variable: str) -> None:
    settings = MoEngageSettings.from_env({k: v for k, v in ENV.items() if k != variable})
    with pytest.raises(ConfigError, match=f"{variable} is not set"):
        settings.key(family)
    other = "campaign" if family == "data" else "data"
    assert settings.key(other)


def test_keys_never_appear_in_reprs_or_errors() -> None:
    settings = MoEngageSettings.from_env(ENV)
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert "data-secret-value" not in text
        assert "campaign-secret-value" not in text
    with pytest.raises(ConfigError) as raised:
        MoEngageSettings.from_env({**ENV, "MOENGAGE_DC": "99"})
    assert "secret-value" not in str(raised.value)
    assert settings.key("data") == "data-secret-value"
