"""examples/stack-reference: Okta gets the token the root stack (localskills-scim) exported."""

from __future__ import annotations

from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.engine import EngineState
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.wire import is_secret, unwrap
from tests.examples.support import (
    OKTA_CONNECTION_TYPE,
    ROOT,
    STACK_REFERENCE_TYPE,
    ExampleStack,
    RecordingMocks,
    secret_at,
)

PROJECT = "localskills-okta-from-stack"
ROOT_STACK = "organization/localskills-scim/dev"
OKTA_APP_ID = "0oa1example2app3id4"
SCIM_BASE_URL = "https://localskills.sh/scim/v2"


@pytest.fixture(scope="module")
def root_exports(emulator: Emulator, host: HostPool) -> dict[str, Any]:
    """The root program's exports after a `pulumi up` of its dev stack."""
    tenant_id = emulator.new_tenant("root")
    root = ExampleStack(
        "unused", "localskills-scim", emulator, host, config={"tenantId": tenant_id}
    )
    result = root.up(program=ROOT / "__main__.py")
    assert is_secret(result.outputs["scim_token"])
    return result.outputs


def consumer(emulator: Emulator, host: HostPool, stacks: dict[str, dict[str, Any]]) -> ExampleStack:
    return ExampleStack(
        "stack-reference",
        PROJECT,
        emulator,
        host,
        config={"rootStack": ROOT_STACK, "oktaAppId": OKTA_APP_ID, "scimBaseUrl": SCIM_BASE_URL},
        mocks=RecordingMocks(stacks=stacks),
        state=EngineState(),
    )


def test_okta_gets_the_root_stacks_token_still_secret(
    emulator: Emulator, host: HostPool, root_exports: dict[str, Any]
) -> None:
    stack = consumer(emulator, host, {ROOT_STACK: root_exports})
    result = stack.up()

    assert set(result.resources) == {
        stack.urn(STACK_REFERENCE_TYPE, ROOT_STACK),
        stack.urn(OKTA_CONNECTION_TYPE, "localskills-provisioning"),
    }
    assert result.steps == []  # nothing dynamic: the token belongs to the root stack
    reference, connection = stack.mocks.registrations
    assert reference.type == STACK_REFERENCE_TYPE
    assert reference.inputs["name"] == ROOT_STACK
    assert connection.type == OKTA_CONNECTION_TYPE
    assert unwrap(connection.inputs)["idProperty"] == OKTA_APP_ID
    assert unwrap(connection.inputs)["baseUrl"] == SCIM_BASE_URL
    assert unwrap(connection.inputs)["action"] == "activate"

    token, secret = secret_at(connection.inputs, "profile", "token")
    assert secret, "the token reached Okta's connection in the clear"
    assert token == unwrap(root_exports["scim_token"])
    assert emulator.scim_get_users(token).status_code == 200
    assert result.outputs["scim_token_id"] == root_exports["scim_token_id"]


def test_a_root_stack_without_a_token_fails_naming_the_stack_and_output(
    emulator: Emulator, host: HostPool, root_exports: dict[str, Any]
) -> None:
    # An imported token has no value: the root stack exports scim_token as None.
    exports = {**root_exports, "scim_token": None}
    stack = consumer(emulator, host, {ROOT_STACK: exports})
    with pytest.raises(Exception, match=f"stack {ROOT_STACK} has no scim_token output"):
        stack.up()
    assert stack.mocks.of_type(OKTA_CONNECTION_TYPE) == []


@pytest.mark.parametrize("missing", ["rootStack", "oktaAppId", "scimBaseUrl"])
def test_a_missing_config_value_fails_naming_it(
    emulator: Emulator, host: HostPool, root_exports: dict[str, Any], missing: str
) -> None:
    stack = consumer(emulator, host, {ROOT_STACK: root_exports})
    del stack.config[missing]
    with pytest.raises(Exception, match=f"{PROJECT}:{missing}"):
        stack.up()
    assert stack.mocks.registrations == []
