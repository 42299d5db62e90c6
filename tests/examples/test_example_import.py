"""examples/import: an existing token adopted by composite ID, and the program after."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.wire import unwrap
from tests.examples.support import (
    EXAMPLES,
    SCIM_TOKEN_TYPE,
    ExampleStack,
    tenant_posts,
)

PROJECT = "localskills-import"
TOKEN_NAME = "Okta SCIM Provisioning"


@pytest.fixture(scope="module")
def existing(emulator: Emulator) -> dict[str, Any]:
    """A token created outside Pulumi (its value is what an IdP already holds)."""
    tenant_id = emulator.new_tenant("import")
    token = emulator.create_token(tenant_id, TOKEN_NAME, expires_in_days=365)
    return {"tenant_id": tenant_id, **token}


def import_config(existing: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return {
        "tenantId": existing["tenant_id"],
        "tokenId": existing["id"],
        "tokenName": TOKEN_NAME,
        "expiresInDays": "365",
        **overrides,
    }


@pytest.fixture
def stack(emulator: Emulator, host: HostPool, existing: dict[str, Any]) -> ExampleStack:
    return ExampleStack("import", PROJECT, emulator, host, config=import_config(existing))


def token_urn(stack: ExampleStack) -> str:
    return stack.urn(SCIM_TOKEN_TYPE, "scim-token")


def test_up_adopts_the_token_without_issuing_one(
    stack: ExampleStack, clean_emulator: Emulator, existing: dict[str, Any]
) -> None:
    result = stack.up()

    # The engine sees a create; the provider adopts the token instead of POSTing.
    assert result.steps == [("create", token_urn(stack))]
    assert set(result.resources) == {token_urn(stack)}
    assert tenant_posts(clean_emulator, existing["tenant_id"]) == []
    state = result.resources[token_urn(stack)]
    assert state.id == f"{existing['tenant_id']}/{existing['id']}"
    assert unwrap(state.state.get("token_value")) is None
    assert result.outputs["scim_token_id"] == existing["id"]
    assert result.outputs["scim_token_created_at"] == existing["createdAt"]
    assert result.outputs["scim_token_expires_at"] == existing["expiresAt"]
    # Nothing was revoked: the token the IdP holds still works.
    assert clean_emulator.scim_get_users(existing["token"]).status_code == 200


def test_the_next_up_is_a_no_op(
    stack: ExampleStack, clean_emulator: Emulator, existing: dict[str, Any]
) -> None:
    stack.up()
    result = stack.up()
    assert result.steps == [("same", token_urn(stack))]
    assert tenant_posts(clean_emulator, existing["tenant_id"]) == []


def readme_program_after_import() -> str:
    """The "after the import" program from the example's README."""
    readme = (EXAMPLES / "import" / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- after-import -->\s*```python\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md lost its after-import program"
    return textwrap.dedent(match.group(1))


def test_the_program_after_the_import_keeps_the_token_as_is(
    stack: ExampleStack, clean_emulator: Emulator, existing: dict[str, Any]
) -> None:
    stack.up()
    source = readme_program_after_import()
    assert "import_" not in source

    def after_import() -> None:
        exec(compile(source, "README.md", "exec"), {"__name__": "__main__"})

    result = stack.up(program=after_import)
    assert result.steps == [("same", token_urn(stack))]
    assert tenant_posts(clean_emulator, existing["tenant_id"]) == []
    assert result.outputs["scim_token_id"] == existing["id"]


def test_a_mismatched_lifetime_is_refused_with_the_fix(
    emulator: Emulator, host: HostPool, existing: dict[str, Any]
) -> None:
    stack = ExampleStack(
        "import", PROJECT, emulator, host, config=import_config(existing, expiresInDays="30")
    )
    with pytest.raises(Exception, match="set expires_in_days=365"):
        stack.up()
    assert stack.state.resources == {}


def test_renaming_with_import_still_set_is_refused(
    stack: ExampleStack, host: HostPool, existing: dict[str, Any]
) -> None:
    stack.up()
    renamed = ExampleStack(
        "import",
        PROJECT,
        stack.emulator,
        host,
        config=import_config(existing, tokenName="Entra ID SCIM"),
        state=stack.state,
    )
    with pytest.raises(Exception, match="remove import_"):
        renamed.up()
    assert {t["id"] for t in stack.emulator.list_tokens(existing["tenant_id"])} >= {existing["id"]}


@pytest.mark.parametrize("missing", ["tenantId", "tokenId", "tokenName"])
def test_a_missing_config_value_fails_naming_it(
    emulator: Emulator,
    stack: ExampleStack,
    missing: str,
) -> None:
    del stack.config[missing]
    with pytest.raises(Exception, match=f"{PROJECT}:{missing}"):
        stack.up()
    assert stack.state.resources == {}
