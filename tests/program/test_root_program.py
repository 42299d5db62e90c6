"""The root program (`__main__.py`) under set_mocks, with a monitor that plays the engine and
sends ScimToken through Pulumi's real dynamic-provider host."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pulumi
import pytest

from localskills_pulumi import ScimToken
from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.wire import UNKNOWN, is_secret, unwrap
from tests.helpers import posts
from tests.program.support import PROJECT, Stack


def token_urn() -> str:
    return f"urn:pulumi:dev::{PROJECT}::{SCIM_TOKEN_TYPE}::scim-token"


def test_up_exports_a_secret_token_that_opens_the_scim_endpoint(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    result = stack.up()
    assert result.steps == [("create", token_urn())]
    assert is_secret(result.outputs["scim_token"])
    token = unwrap(result.outputs["scim_token"])
    assert not is_secret(result.outputs["scim_token_id"])
    assert [t["id"] for t in emulator.list_tokens(tenant_id)] == [result.outputs["scim_token_id"]]
    assert result.outputs["scim_token_expires_at"]
    assert emulator.scim_get_users(token).status_code == 200


def test_a_second_up_plans_no_change_and_sends_no_post(
    stack: Stack, clean_emulator: Emulator
) -> None:
    first = stack.up()
    before = posts(clean_emulator)
    second = stack.up()
    assert second.steps == [("same", token_urn())]
    assert posts(clean_emulator) == before
    assert unwrap(second.outputs["scim_token"]) == unwrap(first.outputs["scim_token"])


def test_renaming_the_token_replaces_it_new_before_old(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    old_token = unwrap(stack.up().outputs["scim_token"])
    stack.config["tokenName"] = "Entra ID SCIM"
    result = stack.up()
    assert result.steps == [
        ("replace", token_urn(), ("name",)),
        ("delete-replaced", token_urn()),
    ]
    new_token = unwrap(result.outputs["scim_token"])
    assert [t["name"] for t in emulator.list_tokens(tenant_id)] == ["Entra ID SCIM"]
    assert emulator.scim_get_users(new_token).status_code == 200
    assert emulator.scim_get_users(old_token).status_code == 401


def test_a_preview_creates_nothing_and_the_token_is_unknown(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    result = stack.up(preview=True)
    assert result.steps == [("create", token_urn())]
    assert unwrap(result.outputs["scim_token"]) == UNKNOWN
    assert emulator.list_tokens(tenant_id) == []


def test_a_missing_tenant_id_fails_naming_the_config_key(stack: Stack) -> None:
    stack.config = {}
    with pytest.raises(Exception, match="tenantId"):
        stack.up()


def test_rotate_before_days_beyond_the_lifetime_fails_check_before_any_request(
    stack: Stack, clean_emulator: Emulator
) -> None:
    stack.config.update(expiresInDays="30", rotateBeforeDays="45")
    with pytest.raises(Exception, match="rotate_before_days"):
        stack.up()
    assert clean_emulator.requests_log() == []


def test_expiry_inside_the_rotation_window_replaces_the_token(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    stack.config.update(expiresInDays="90", rotateBeforeDays="14")
    first = stack.up()
    # Time passes: the expiry is now 10 days away, inside the 14-day window.
    in_ten_days = datetime.now(timezone.utc) + timedelta(days=10)
    stack.state.resources[token_urn()].outputs["expires_at"] = in_ten_days.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    preview = stack.up(preview=True)
    assert preview.steps[0] == ("replace", token_urn(), ("expires_at",))
    result = stack.up()
    assert result.steps[0] == ("replace", token_urn(), ("expires_at",))
    assert [t["id"] for t in emulator.list_tokens(tenant_id)] == [result.outputs["scim_token_id"]]
    assert result.outputs["scim_token_id"] != first.outputs["scim_token_id"]


# -- import and get through the engine path -----------------------------------------------------


def adopt_program(import_id: str | None, name: str = "Okta") -> Any:
    def program() -> None:
        opts = pulumi.ResourceOptions(import_=import_id) if import_id else None
        token = ScimToken("adopted", tenant_id=import_id_tenant, name=name, opts=opts)
        pulumi.export("token_id", token.token_id)
        pulumi.export("token_value", token.token_value)

    import_id_tenant = import_id.split("/")[0] if import_id else ""
    return program


def test_import_option_adopts_the_token_through_the_engine(
    stack: Stack, clean_emulator: Emulator, tenant_id: str
) -> None:
    live = clean_emulator.create_token(tenant_id, "Okta")
    composite = f"{tenant_id}/{live['id']}"
    clean_emulator.clear_requests()
    result = stack.up(adopt_program(composite))
    assert result.outputs["token_id"] == live["id"]
    assert unwrap(result.outputs.get("token_value")) is None
    assert posts(clean_emulator) == 0
    # Later runs plan no change, with import_ kept or removed.
    assert [step[0] for step in stack.up(adopt_program(composite)).steps] == ["same"]

    def without_import() -> None:
        ScimToken("adopted", tenant_id=tenant_id, name="Okta")

    assert [step[0] for step in stack.up(without_import).steps] == ["same"]
    assert [t["id"] for t in clean_emulator.list_tokens(tenant_id)] == [live["id"]]


def test_get_reads_a_token_without_managing_it(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    live = emulator.create_token(tenant_id, "Google Workspace", 30)

    def program() -> None:
        token = ScimToken.get("existing", f"{tenant_id}/{live['id']}")
        pulumi.export("name", token.name)
        pulumi.export("expires_in_days", token.expires_in_days)

    result = stack.up(program)
    assert result.outputs == {"name": "Google Workspace", "expires_in_days": 30}
    assert [step[0] for step in result.steps] == ["read"]

    def nothing() -> None:
        pass

    stack.up(nothing)  # a read resource is never deleted
    assert [t["id"] for t in emulator.list_tokens(tenant_id)] == [live["id"]]
