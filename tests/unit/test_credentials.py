"""Credentials resolution: explicit argument, stack config, environment, default."""

import pytest

from localskills_pulumi.errors import CredentialsError
from localskills_pulumi.settings import DEFAULT_BASE_URL, resolve_credentials

CANARY = "lsk_" + "c0ffee00" * 8


def test_stack_config_wins_over_the_environment() -> None:
    creds = resolve_credentials(
        config={"localskills:apiToken": CANARY, "localskills:baseUrl": "http://127.0.0.1:1"},
        environ={"LOCALSKILLS_API_TOKEN": "lsk_env", "LOCALSKILLS_BASE_URL": "http://env:2"},
    )
    assert creds.api_token == CANARY
    assert creds.base_url == "http://127.0.0.1:1"
    assert creds.token_source == "stack config localskills:apiToken"


def test_environment_is_used_when_config_is_absent_and_base_url_defaults() -> None:
    creds = resolve_credentials(config={}, environ={"LOCALSKILLS_API_TOKEN": CANARY})
    assert creds.api_token == CANARY
    assert creds.base_url == DEFAULT_BASE_URL
    assert "LOCALSKILLS_API_TOKEN" in creds.token_source


def test_explicit_arguments_win() -> None:
    creds = resolve_credentials(
        CANARY, "http://h:3/", config={"localskills:apiToken": "lsk_x"}, environ={}
    )
    assert (creds.api_token, creds.base_url) == (CANARY, "http://h:3")


def test_missing_token_names_both_ways_to_set_it() -> None:
    with pytest.raises(CredentialsError) as raised:
        resolve_credentials(config={}, environ={})
    assert "localskills:apiToken" in str(raised.value)
    assert "LOCALSKILLS_API_TOKEN" in str(raised.value)


def test_token_without_prefix_is_refused_without_echoing_it() -> None:
    secret = "scim_" + "ab" * 20
    with pytest.raises(CredentialsError) as raised:
        resolve_credentials(config={}, environ={"LOCALSKILLS_API_TOKEN": secret})
    assert "lsk_" in str(raised.value)
    assert secret not in str(raised.value)


def test_credentials_repr_hides_the_token() -> None:
    creds = resolve_credentials(config={}, environ={"LOCALSKILLS_API_TOKEN": CANARY})
    assert CANARY not in repr(creds)


def test_base_url_must_be_http() -> None:
    with pytest.raises(CredentialsError, match="base URL"):
        resolve_credentials(CANARY, "ftp://x", environ={})
