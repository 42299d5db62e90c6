"""Bad inputs and odd config, through the real host.

Input is refused at ``check`` with a failure naming the property; an ID in state that could not
be a safe path segment is refused before any request; a config key out of range is a
:class:`ConfigError` naming the key and the range, at the first call that needs the client,
and no request is sent. Every error that reaches the engine is one of the package's.
"""

from __future__ import annotations

import math
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from localskills_pulumi.errors import (
    AuthenticationError,
    ConfigError,
    CredentialsError,
    ImportIdError,
    TransportError,
)
from localskills_pulumi.testing.provider_client import ProviderError
from tests.host.scim import props, scim_urn, start_host
from tests.hostile.servers import (
    Connection,
    HostileServer,
    Request,
    Router,
    json_answer,
    token_item,
)
from tests.hostile.support import (
    API_TOKEN,
    TENANT,
    HostPair,
    afresh,
    assert_clean_error,
    create,
    delete,
    host_config,
    hostile,
    read,
    running_host,
    token_outputs,
)


def listing_with_paths(request: Request, conn: Connection) -> bool:
    conn.send(json_answer(200, {"success": True, "data": []}))
    return True


def listing_holding_the_token(request: Request, conn: Connection) -> bool:
    conn.send(json_answer(200, {"success": True, "data": [token_item()]}))
    return True


@pytest.fixture(scope="module")
def _one_host() -> Iterator[HostPair]:
    with hostile(listing_with_paths) as pair:
        yield pair


@pytest.fixture
def shared(_one_host: HostPair) -> HostPair:
    """One server answering empty listings and one host pointed at it, shared by the cases
    that Check, Diff, or are refused before any request, as the engine sends the calls of
    many resources to one host in one run; the server's request log is emptied per test.
    A case that needs other config, or state the others could leave, starts its own."""
    return afresh(_one_host)


# -- IDs that are not one safe path segment --------------------------------------------------------


@pytest.mark.parametrize("tenant_id", [".", "..", "a/b", "a\\b", "a b", "a\nb", "a\x00b"])
def test_a_tenant_id_that_is_not_one_safe_path_segment_fails_check(
    tenant_id: str, shared: HostPair
) -> None:
    server, host = shared
    checked = host.check(scim_urn(), {}, props(tenant_id=tenant_id, name="Okta"))
    assert [prop for prop, _ in checked.failures] == ["tenant_id"]
    assert "tenant_id" in checked.failures[0][1]
    assert server.requests == []


@pytest.mark.parametrize("import_id", [f"{TENANT}/..", f"{TENANT}/.", "../tok1", f"{TENANT}/a b"])
def test_an_import_id_with_an_unsafe_part_fails_check(import_id: str, shared: HostPair) -> None:
    _, host = shared
    checked = host.check(scim_urn(), {}, props(tenant_id=TENANT, name="Okta", import_id=import_id))
    assert [prop for prop, _ in checked.failures] == ["import_id"]


@pytest.mark.parametrize("token_id", ["..", "."])
def test_a_dot_segment_token_id_in_state_is_refused_before_any_request(
    token_id: str, shared: HostPair
) -> None:
    server, host = shared
    for call in (delete, read):
        with pytest.raises(ProviderError) as raised:
            call(host, token_id)
        assert_clean_error(raised.value, ImportIdError, "token_id", repr(token_id))
    assert server.requests == []


@pytest.mark.parametrize(
    ("tenant_id", "path"),
    [
        ("%2e%2e", "/api/tenants/%252e%252e/scim-tokens"),
        ("a?b#c", "/api/tenants/a%3Fb%23c/scim-tokens"),
        ("a;b=c", "/api/tenants/a%3Bb%3Dc/scim-tokens"),
        ("ünï", "/api/tenants/%C3%BCn%C3%AF/scim-tokens"),
    ],
)
def test_a_tenant_id_is_sent_as_one_encoded_segment(
    tenant_id: str, path: str, shared: HostPair
) -> None:
    server, host = shared
    checked = host.check(scim_urn(), {}, props(tenant_id=tenant_id, name="Okta"))
    assert checked.failures == []
    host.read(f"{tenant_id}/tok1", scim_urn(), token_outputs(tenant_id=tenant_id))
    assert [r.path for r in server.requests] == [path]


# -- day counts ------------------------------------------------------------------------------------

BAD_DAYS: list[Any] = [
    math.nan,
    math.inf,
    -math.inf,
    1e6,
    36_501,
    0,
    -1,
    1.5,
    True,
    "30",
]


@pytest.mark.parametrize("days", BAD_DAYS, ids=repr)
def test_expires_in_days_that_is_not_a_whole_number_in_range_fails_check(
    days: Any, shared: HostPair
) -> None:
    _, host = shared
    checked = host.check(scim_urn(), {}, props(tenant_id=TENANT, name="Okta", expires_in_days=days))
    assert [prop for prop, _ in checked.failures] == ["expires_in_days"]
    assert "expires_in_days" in checked.failures[0][1]


@pytest.mark.parametrize("days", [math.nan, math.inf, 1e6, 10**18, -1, 2.5], ids=repr)
def test_rotate_before_days_that_is_not_a_whole_number_in_range_fails_check(
    days: Any, shared: HostPair
) -> None:
    news = props(tenant_id=TENANT, name="Okta", expires_in_days=30, rotate_before_days=days)
    _, host = shared
    checked = host.check(scim_urn(), {}, news)
    assert [prop for prop, _ in checked.failures] == ["rotate_before_days"]


@pytest.mark.parametrize("days", [1e6, 10**18, math.inf, math.nan], ids=repr)
def test_a_huge_rotation_window_never_overflows_diff(days: Any, shared: HostPair) -> None:
    # Diff runs after check, but also on a refresh, with inputs check never saw.
    olds = token_outputs(expires_in_days=30, expires_at="2099-01-01T00:00:00Z")
    news = props(tenant_id=TENANT, name="Okta", expires_in_days=30, rotate_before_days=days)
    _, host = shared
    diff = host.diff(f"{TENANT}/tok1", scim_urn(), olds, news)
    assert "expires_at" not in diff.replaces


# -- stack config ----------------------------------------------------------------------------------

BAD_CONFIG: list[tuple[str, Any, str]] = [
    ("requestTimeout", "0", "a number from 0.1 to 600 seconds"),
    ("requestTimeout", "0.05", "a number from 0.1 to 600 seconds"),
    ("requestTimeout", "nan", "a number from 0.1 to 600 seconds"),
    ("requestTimeout", "inf", "a number from 0.1 to 600 seconds"),
    ("requestTimeout", "-1", "a number from 0.1 to 600 seconds"),
    ("requestTimeout", "601", "a number from 0.1 to 600 seconds"),
    ("requestTimeout", "soon", "a number from 0.1 to 600 seconds"),
    ("requestTimeout", math.nan, "a number from 0.1 to 600 seconds"),
    ("requestTimeout", 0.0, "a number from 0.1 to 600 seconds"),
    ("maxRetries", "nan", "a whole number from 0 to 10"),
    ("maxRetries", "inf", "a whole number from 0 to 10"),
    ("maxRetries", "1e9", "a whole number from 0 to 10"),
    ("maxRetries", "-1", "a whole number from 0 to 10"),
    ("maxRetries", "1.5", "a whole number from 0 to 10"),
    ("maxRetries", "11", "a whole number from 0 to 10"),
    ("maxRetries", math.inf, "a whole number from 0 to 10"),
    ("listingCacheSeconds", "nan", "a number from 0 to 3600 seconds"),
    ("listingCacheSeconds", "-1", "a number from 0 to 3600 seconds"),
    ("listingCacheSeconds", "1e400", "a number from 0 to 3600 seconds"),
]


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    BAD_CONFIG,
    ids=[f"{key}={value!r}" for key, value, _ in BAD_CONFIG],
)
def test_a_config_key_out_of_range_is_a_config_error_naming_key_and_range(
    key: str, value: Any, allowed: str
) -> None:
    with hostile(listing_with_paths, **{key: value}) as (server, host):
        for call in (create, read):  # the error is the same at every call, and clean
            with pytest.raises(ProviderError) as raised:
                call(host)
            message = assert_clean_error(raised.value, ConfigError, f"localskills:{key}", allowed)
            assert message.count(f"localskills:{key}") == 1
    assert server.requests == []


# -- credentials -----------------------------------------------------------------------------------

MALFORMED_TOKENS = {
    "non-Latin-1": "lsk_" + "\u20ac" * 64,
    "Latin-1 not ASCII": "lsk_" + "\xe9" * 64,
    "line break": "lsk_" + "0" * 32 + "\r\nX-Evil: 1",
    "space": "lsk_" + "0" * 32 + " " + "0" * 31,
}


@pytest.mark.parametrize("token", list(MALFORMED_TOKENS.values()), ids=list(MALFORMED_TOKENS))
def test_a_malformed_api_token_is_refused_as_malformed_credentials(token: str) -> None:
    with HostileServer(listing_with_paths) as server:
        config = {**host_config(server.base_url), "localskills:apiToken": token}
        host = start_host(config)
        try:
            with pytest.raises(ProviderError) as raised:
                create(host)
        finally:
            host.stop()
    assert_clean_error(raised.value, CredentialsError, "localskills:apiToken", "malformed")
    assert token not in raised.value.details
    assert server.requests == []


# -- every error the engine gets is the package's --------------------------------------------------


def test_a_missing_api_token_is_a_credentials_error() -> None:
    host = start_host({"localskills:baseUrl": "http://127.0.0.1:9"})
    try:
        with pytest.raises(ProviderError) as raised:
            read(host)
    finally:
        host.stop()
    assert_clean_error(raised.value, CredentialsError, "localskills:apiToken")


def test_a_server_that_is_not_there_is_a_transport_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with running_host(f"http://127.0.0.1:{port}") as host:
        for call in (read, create, delete):
            with pytest.raises(ProviderError) as raised:
                call(host)
            assert_clean_error(raised.value, TransportError, "cannot reach")


def test_a_refused_api_token_is_an_authentication_error_naming_the_config_key() -> None:
    refused = Router.fixed(json_answer(401, {"success": False, "error": "Invalid API token"}))
    with hostile(refused) as (_, host):
        for call in (read, create, delete):
            with pytest.raises(ProviderError) as raised:
                call(host)
            message = assert_clean_error(
                raised.value, AuthenticationError, "HTTP 401", "localskills:apiToken"
            )
            assert API_TOKEN not in message


@pytest.mark.parametrize("id_", ["engineering", "a/b/c", "/tok1", "engineering/"])
def test_a_malformed_id_in_state_is_an_input_error(id_: str, shared: HostPair) -> None:
    server, host = shared
    for method in (host.read, host.delete):
        with pytest.raises(ProviderError) as raised:
            method(id_, scim_urn(), token_outputs())
        assert_clean_error(raised.value, ImportIdError, "<tenant_id>/<token_id>")
    assert server.requests == []


@pytest.mark.parametrize(
    "expires_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+01:00", "yesterday", 5]
)
def test_an_expires_at_in_state_that_is_no_real_moment_never_crashes_diff(expires_at: Any) -> None:
    olds = token_outputs(expires_in_days=30, rotate_before_days=5, expires_at=expires_at)
    news = props(tenant_id=TENANT, name="Okta", expires_in_days=30, rotate_before_days=5)
    # The token is live (the plan's liveness check finds it): only expiry could replace it.
    with hostile(listing_holding_the_token) as (_, host):
        diff = host.diff(f"{TENANT}/tok1", scim_urn(), olds, news)
    assert diff.changes == "DIFF_NONE"
