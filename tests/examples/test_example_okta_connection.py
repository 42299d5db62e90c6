"""examples/okta-connection: a token issued and handed to Okta's provisioning connection."""

from __future__ import annotations

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.wire import is_secret, unwrap
from tests.examples.support import (
    OKTA_CONNECTION_TYPE,
    SCIM_TOKEN_TYPE,
    ExampleStack,
    assert_rotation_hands_over,
    secret_at,
    tenant_posts,
)
from tests.helpers import live_ids

PROJECT = "localskills-okta-connection"
OKTA_APP_ID = "0oa1example2app3id4"
SCIM_BASE_URL = "https://localskills.sh/scim/v2"


@pytest.fixture(scope="module")
def module_tenant(emulator: Emulator) -> str:
    # One tenant for the module: the host takes one stack config for all its runs.
    return emulator.new_tenant("okta")


@pytest.fixture
def stack(emulator: Emulator, host: HostPool, module_tenant: str) -> ExampleStack:
    return ExampleStack(
        "okta-connection",
        PROJECT,
        emulator,
        host,
        config={"tenantId": module_tenant, "oktaAppId": OKTA_APP_ID, "scimBaseUrl": SCIM_BASE_URL},
    )


def test_up_issues_a_token_and_hands_it_to_okta_as_a_secret(
    stack: ExampleStack, emulator: Emulator, module_tenant: str
) -> None:
    result = stack.up()

    token_urn = stack.urn(SCIM_TOKEN_TYPE, "okta-scim-token")
    connection_urn = stack.urn(OKTA_CONNECTION_TYPE, "localskills-provisioning")
    assert result.steps == [("create", token_urn)]
    assert set(result.resources) == {token_urn, connection_urn}

    [connection] = stack.mocks.of_type(OKTA_CONNECTION_TYPE)
    assert [r.type for r in stack.mocks.registrations] == [OKTA_CONNECTION_TYPE]
    assert unwrap(connection.inputs)["idProperty"] == OKTA_APP_ID
    assert unwrap(connection.inputs)["baseUrl"] == SCIM_BASE_URL
    assert unwrap(connection.inputs)["action"] == "activate"
    assert secret_at(connection.inputs, "profile", "authScheme")[0] == "TOKEN"
    token, secret = secret_at(connection.inputs, "profile", "token")
    assert secret, "the token reached Okta's connection in the clear"

    # It is the token just issued, and it opens the SCIM endpoint.
    state = result.resources[token_urn].state
    assert is_secret(state["token_value"])
    assert token == unwrap(state["token_value"])
    assert token.startswith("lsk_scim_")
    assert emulator.scim_get_users(token).status_code == 200
    assert result.outputs["scim_token_id"] in live_ids(emulator, module_tenant)
    # The exports hold no secret: the token itself is not exported.
    assert token not in repr(unwrap(result.outputs))


def test_rotation_hands_okta_the_new_token_before_the_old_is_revoked(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str
) -> None:
    assert_rotation_hands_over(
        stack,
        clean_emulator,
        module_tenant,
        "okta-scim-token",
        OKTA_CONNECTION_TYPE,
        lambda connection: secret_at(connection.inputs, "profile", "token"),
    )


def test_a_second_up_keeps_the_token_and_okta_keeps_the_same_value(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str
) -> None:
    first = stack.up()
    clean_emulator.clear_requests()
    second = stack.up()
    token_urn = stack.urn(SCIM_TOKEN_TYPE, "okta-scim-token")
    assert second.steps == [("same", token_urn)]
    assert tenant_posts(clean_emulator, module_tenant) == []
    first_conn, second_conn = stack.mocks.of_type(OKTA_CONNECTION_TYPE)
    assert secret_at(second_conn.inputs, "profile", "token") == secret_at(
        first_conn.inputs, "profile", "token"
    )
    assert secret_at(second_conn.inputs, "profile", "token")[1]
    assert second.outputs["scim_token_id"] == first.outputs["scim_token_id"]


@pytest.mark.parametrize("missing", ["tenantId", "oktaAppId", "scimBaseUrl"])
def test_a_missing_config_value_fails_naming_it_before_any_token_is_issued(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str, missing: str
) -> None:
    del stack.config[missing]
    with pytest.raises(Exception, match=f"{PROJECT}:{missing}"):
        stack.up()
    assert tenant_posts(clean_emulator, module_tenant) == []
    assert stack.mocks.registrations == []


def test_a_token_revoked_outside_pulumi_is_replaced_by_a_plain_up_and_okta_gets_the_new_one(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str
) -> None:
    emulator = clean_emulator
    first = stack.up()
    token_urn = stack.urn(SCIM_TOKEN_TYPE, "okta-scim-token")
    old_id = first.outputs["scim_token_id"]
    old_token = unwrap(first.resources[token_urn].state["token_value"])
    # Someone revokes it in the localskills console (a leak drill).
    assert emulator.delete_token(module_tenant, old_id) == 200
    emulator.clear_requests()

    result = stack.up()  # no --refresh

    assert result.steps == [
        ("replace", token_urn, ("token_id",)),
        ("delete-replaced", token_urn),
    ]
    new_id = result.outputs["scim_token_id"]
    _, second_connection = stack.mocks.of_type(OKTA_CONNECTION_TYPE)
    new_token, secret = secret_at(second_connection.inputs, "profile", "token")
    assert secret and new_token != old_token
    assert emulator.scim_get_users(new_token).status_code == 200
    # State ends on the live token, the only one of the tenant's left by this stack.
    assert unwrap(stack.state.resources[token_urn].outputs["token_id"]) == new_id
    assert new_id in live_ids(emulator, module_tenant)
    assert old_id not in live_ids(emulator, module_tenant)
    assert len(tenant_posts(emulator, module_tenant)) == 1
