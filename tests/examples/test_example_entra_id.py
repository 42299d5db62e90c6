"""examples/entra-id: a token issued and handed to Microsoft Entra ID provisioning (a
synchronization secret and job on the enterprise application's service principal)."""

from __future__ import annotations

from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.wire import contains_secrets, is_secret, unwrap
from tests.examples.support import (
    ROOT,
    SCIM_TOKEN_TYPE,
    ExampleStack,
    Registration,
    assert_rotation_hands_over,
    tenant_posts,
)
from tests.helpers import live_ids

PROJECT = "localskills-entra-id"
SECRET_TYPE = "azuread:index/synchronizationSecret:SynchronizationSecret"
JOB_TYPE = "azuread:index/synchronizationJob:SynchronizationJob"
SERVICE_PRINCIPAL_ID = "00000000-0000-0000-0000-0000000000e1"
SCIM_BASE_URL = "https://localskills.sh/scim/v2"


@pytest.fixture(scope="module")
def module_tenant(emulator: Emulator) -> str:
    # One tenant for the module: the host takes one stack config for all its runs.
    return emulator.new_tenant("entra")


@pytest.fixture
def stack(emulator: Emulator, host: ProviderHost, module_tenant: str) -> ExampleStack:
    return ExampleStack(
        "entra-id",
        PROJECT,
        emulator,
        host,
        config={
            "tenantId": module_tenant,
            "servicePrincipalId": SERVICE_PRINCIPAL_ID,
            "scimBaseUrl": SCIM_BASE_URL,
        },
    )


def credential(secret: Registration, key: str) -> tuple[Any, bool]:
    """The value of one credential of a SynchronizationSecret, and whether it arrived secret
    (the leaf, its credential object, or the whole list)."""
    credentials = secret.inputs["credentials"]
    enclosing = is_secret(credentials)
    for entry in unwrap(credentials) if enclosing else credentials:
        entry_secret = is_secret(entry)
        fields = unwrap(entry) if entry_secret else entry
        if unwrap(fields["key"]) == key:
            value = fields["value"]
            return unwrap(value), enclosing or entry_secret or contains_secrets(value)
    raise AssertionError(f"no credential {key!r} in {unwrap(credentials)!r}")


def test_up_hands_the_issued_token_to_the_synchronization_secret_as_a_secret(
    stack: ExampleStack, emulator: Emulator, module_tenant: str
) -> None:
    result = stack.up()

    token_urn = stack.urn(SCIM_TOKEN_TYPE, "entra-id-scim-token")
    assert result.steps == [("create", token_urn)]
    assert [r.type for r in stack.mocks.registrations] == [SECRET_TYPE, JOB_TYPE]
    secret, job = stack.mocks.registrations

    assert unwrap(secret.inputs)["servicePrincipalId"] == SERVICE_PRINCIPAL_ID
    assert [unwrap(c)["key"] for c in unwrap(secret.inputs)["credentials"]] == [
        "BaseAddress",
        "SecretToken",
    ]
    assert credential(secret, "BaseAddress")[0] == SCIM_BASE_URL
    token, token_is_secret = credential(secret, "SecretToken")
    assert token_is_secret, "the token reached Entra ID's synchronization secret in the clear"

    # It is the token just issued, and it opens the SCIM endpoint.
    state = result.resources[token_urn].state
    assert is_secret(state["token_value"])
    assert token == unwrap(state["token_value"])
    assert emulator.scim_get_users(token).status_code == 200
    assert result.outputs["scim_token_id"] in live_ids(emulator, module_tenant)

    assert unwrap(job.inputs) == {
        "servicePrincipalId": SERVICE_PRINCIPAL_ID,
        "templateId": "scim",
        "enabled": True,
    }
    # Nothing exported holds the token.
    assert token not in repr(unwrap(result.outputs))


def test_rotation_hands_entra_id_the_new_token_before_the_old_is_revoked(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str
) -> None:
    assert_rotation_hands_over(
        stack,
        clean_emulator,
        module_tenant,
        "entra-id-scim-token",
        SECRET_TYPE,
        lambda secret: credential(secret, "SecretToken"),
    )


def test_the_template_id_comes_from_config(stack: ExampleStack) -> None:
    stack.config["synchronizationTemplateId"] = "customappsso"
    # Another stack config: a host of its own (the host configures its provider once).
    with ProviderHost(cwd=ROOT) as host:
        stack.host = host
        stack.up()
    [job] = stack.mocks.of_type(JOB_TYPE)
    assert unwrap(job.inputs)["templateId"] == "customappsso"


@pytest.mark.parametrize("missing", ["tenantId", "servicePrincipalId", "scimBaseUrl"])
def test_a_missing_config_value_fails_naming_it_before_any_token_is_issued(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str, missing: str
) -> None:
    del stack.config[missing]
    with pytest.raises(Exception, match=f"{PROJECT}:{missing}"):
        stack.up()
    assert tenant_posts(clean_emulator, module_tenant) == []
    assert stack.mocks.registrations == []
