"""ScimToken on the engine's other paths, through the real dynamic host and the emulator:
refresh of an adopted token, replacements the engine starts itself with ``import_`` still set,
failed runs, ``ScimToken.get`` of a token that is not there, and a rotated API token."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pulumi
import pytest

from localskills_pulumi import ScimToken
from localskills_pulumi.model import IMPORT_ID, SCIM_TOKEN_TYPE
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.provider_client import ProviderError
from localskills_pulumi.testing.wire import is_secret, unwrap
from tests.helpers import live_ids
from tests.program.support import PROJECT, Stack

DAY = 86400


@pytest.fixture(scope="module")
def private_emulator() -> Iterator[Emulator]:
    """An emulator for the tests that move its clock (forward only: each test's tokens are
    created after the moves of the tests before it, so they see only their own)."""
    with Emulator() as running:
        yield running


def urn(name: str = "token") -> str:
    return f"urn:pulumi:dev::{PROJECT}::{SCIM_TOKEN_TYPE}::{name}"


def token_program(
    tenant_id: str,
    *,
    resource: str = "token",
    import_id: str | None = None,
    token_name: str = "Okta",
    expires_in_days: int | None = 90,
    rotate_before_days: int | None = 14,
    fail: bool = False,
    **options: Any,
) -> Callable[[], None]:
    """A program with one ScimToken; ``fail`` makes the run fail once the token is registered
    (a later resource of the program failing, say)."""

    def program() -> None:
        token = ScimToken(
            resource,
            tenant_id=tenant_id,
            name=token_name,
            expires_in_days=expires_in_days,
            rotate_before_days=rotate_before_days,
            opts=pulumi.ResourceOptions(import_=import_id, **options),
        )
        pulumi.export("token_id", token.token_id)
        if fail:
            pulumi.export("failed", token.token_id.apply(_fail))

    return program


def _fail(_: Any) -> None:
    raise RuntimeError("a later step of the program failed")


def state_token_ids(stack: Stack) -> set[str]:
    return {unwrap(r.outputs["token_id"]) for r in stack.state.resources.values()}


def assert_state_on_live_tokens_and_no_orphans(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    """Every token in state is live, and every live token of the tenant is in state."""
    assert state_token_ids(stack) == live_ids(emulator, tenant_id)


@pytest.fixture
def adopted(emulator: Emulator, tenant_id: str) -> dict[str, Any]:
    """A token created outside Pulumi, with its secret (what the IdP holds)."""
    token = emulator.create_token(tenant_id, "Okta", 90)
    return {**token, "composite": f"{tenant_id}/{token['id']}"}


# -- bug 1: refresh of an adopted token ----------------------------------------------------------


def test_an_adoption_leaves_no_import_marker_in_state_outputs(
    stack: Stack, tenant_id: str, adopted: dict[str, Any]
) -> None:
    stack.up(token_program(tenant_id, import_id=adopted["composite"]))
    assert IMPORT_ID not in stack.state.resources[urn()].outputs
    stack.refresh()
    resource = stack.state.resources[urn()]
    assert IMPORT_ID not in resource.outputs and IMPORT_ID not in resource.inputs


def test_refresh_of_an_adopted_token_keeps_working_once_it_is_due_for_rotation(
    hosts: HostPool, private_emulator: Emulator
) -> None:
    tenant_id = private_emulator.new_tenant()
    live = private_emulator.create_token(tenant_id, "Okta", 90)
    stack = Stack(hosts, private_emulator, tenant_id)
    stack.up(token_program(tenant_id, import_id=f"{tenant_id}/{live['id']}"))
    assert stack.up(token_program(tenant_id)).steps == [("same", urn())]  # import_ removed
    private_emulator.advance_clock(80 * DAY)  # 10 days left: inside the 14-day window
    for _ in range(3):
        # The drift diff shows the due rotation; it never fails on a live token.
        assert stack.refresh() == [("refresh-update", urn())]
    assert state_token_ids(stack) == {live["id"]} == live_ids(private_emulator, tenant_id)
    # The next up rotates it: a new token first, then the adopted one is revoked.
    rotated = stack.up(token_program(tenant_id), refresh=True)
    assert [step[0] for step in rotated.steps] == ["refresh-update", "replace", "delete-replaced"]
    assert_state_on_live_tokens_and_no_orphans(stack, private_emulator, tenant_id)
    assert live["id"] not in live_ids(private_emulator, tenant_id)


def test_a_due_rotation_with_import_still_set_fails_the_up_not_the_refresh(
    hosts: HostPool, private_emulator: Emulator
) -> None:
    tenant_id = private_emulator.new_tenant()
    live = private_emulator.create_token(tenant_id, "Okta", 90)
    composite = f"{tenant_id}/{live['id']}"
    stack = Stack(hosts, private_emulator, tenant_id)
    stack.up(token_program(tenant_id, import_id=composite))
    private_emulator.advance_clock(80 * DAY)
    assert stack.refresh() == [("refresh-update", urn())]
    # The rotation is planned, and the create refuses to adopt the token it replaces.
    with pytest.raises(ProviderError, match="remove import_") as raised:
        stack.up(token_program(tenant_id, import_id=composite), refresh=True)
    assert raised.value.method == "Create"
    assert state_token_ids(stack) == {live["id"]} == live_ids(private_emulator, tenant_id)
    assert stack.state.pending_deletes == []
    # With import_ removed, the rotation issues a new token and revokes the adopted one.
    rotated = stack.up(token_program(tenant_id), refresh=True)
    assert [step[0] for step in rotated.steps] == ["refresh-update", "replace", "delete-replaced"]
    assert live["id"] not in live_ids(private_emulator, tenant_id)
    assert_state_on_live_tokens_and_no_orphans(stack, private_emulator, tenant_id)


# -- bug 2: replacements the engine starts, with import_ still set --------------------------------


def test_targeted_replace_with_import_still_set_keeps_the_adopted_token(
    stack: Stack, emulator: Emulator, tenant_id: str, adopted: dict[str, Any]
) -> None:
    program = token_program(tenant_id, import_id=adopted["composite"])
    stack.up(program)
    result = stack.up(program, replace=[urn()])
    assert result.steps == [("replace", urn(), ("id",)), ("delete-replaced", urn())]
    assert state_token_ids(stack) == {adopted["id"]}
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)
    assert emulator.scim_get_users(adopted["token"]).status_code == 200
    # The provider said why it sent no revoke, in one line the CLI shows.
    [line] = [ln for ln in result.provider_stderr.splitlines() if "not revoking" in ln]
    assert adopted["composite"] in line and adopted["token"] not in line


def test_taint_with_import_still_set_keeps_the_adopted_token(
    stack: Stack, emulator: Emulator, tenant_id: str, adopted: dict[str, Any]
) -> None:
    program = token_program(tenant_id, import_id=adopted["composite"])
    stack.up(program)
    stack.state.taint(urn())
    assert [step[0] for step in stack.up(program).steps] == ["replace", "delete-replaced"]
    assert state_token_ids(stack) == {adopted["id"]}
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)


def test_a_changed_replacement_trigger_with_import_still_set_keeps_the_adopted_token(
    stack: Stack, emulator: Emulator, tenant_id: str, adopted: dict[str, Any]
) -> None:
    composite = adopted["composite"]
    stack.up(token_program(tenant_id, import_id=composite, replacement_trigger="v1"))
    result = stack.up(token_program(tenant_id, import_id=composite, replacement_trigger="v2"))
    assert result.steps == [("replace", urn(), ()), ("delete-replaced", urn())]
    assert state_token_ids(stack) == {adopted["id"]}
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)


def test_renaming_the_resource_with_import_still_set_keeps_the_adopted_token(
    stack: Stack, emulator: Emulator, tenant_id: str, adopted: dict[str, Any]
) -> None:
    stack.up(token_program(tenant_id, import_id=adopted["composite"], resource="okta"))
    result = stack.up(token_program(tenant_id, import_id=adopted["composite"], resource="idp"))
    assert result.steps == [("create", urn("idp")), ("delete", urn("okta"))]
    assert state_token_ids(stack) == {adopted["id"]}
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)


def test_replace_on_changes_with_import_still_set_never_revokes_the_token(
    stack: Stack, emulator: Emulator, tenant_id: str, adopted: dict[str, Any]
) -> None:
    # The provider's own diff decides every replacement of a ScimToken (the dynamic host
    # reports no changed keys for replace_on_changes to act on); an input change with import_
    # still set is refused at check.
    composite = adopted["composite"]
    stack.up(token_program(tenant_id, import_id=composite, replace_on_changes=["*"]))
    assert stack.up(
        token_program(tenant_id, import_id=composite, replace_on_changes=["*"])
    ).steps == [("same", urn())]
    with pytest.raises(Exception, match="remove import_"):
        stack.up(
            token_program(
                tenant_id, import_id=composite, token_name="Okta v2", replace_on_changes=["*"]
            )
        )
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)


@pytest.mark.parametrize(
    ("keep_import", "refresh"),
    [(True, False), (False, True)],
    ids=["import_-kept", "import_-removed-and-refresh"],
)
def test_a_failed_targeted_replace_then_the_next_up_keeps_the_adopted_token(
    stack: Stack,
    emulator: Emulator,
    tenant_id: str,
    adopted: dict[str, Any],
    keep_import: bool,
    refresh: bool,
) -> None:
    composite = adopted["composite"]
    stack.up(token_program(tenant_id, import_id=composite))
    with pytest.raises(Exception, match="a later step of the program failed"):
        stack.up(token_program(tenant_id, import_id=composite, fail=True), replace=[urn()])
    # The old instance waits for deletion: the same token as the live one.
    [pending] = stack.state.pending_deletes
    assert unwrap(pending.outputs["token_id"]) == adopted["id"]
    program = token_program(tenant_id, import_id=composite if keep_import else None)
    result = stack.up(program, refresh=refresh)
    assert result.steps[-2:] == [("same", urn()), ("delete-replaced", urn())]
    assert stack.state.pending_deletes == []
    assert state_token_ids(stack) == {adopted["id"]}
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)


@pytest.mark.parametrize("refresh", [False, True], ids=["up", "up-refresh"])
def test_a_failed_replacement_revokes_the_old_token_in_the_next_up(
    stack: Stack, emulator: Emulator, tenant_id: str, refresh: bool
) -> None:
    first = stack.up(token_program(tenant_id))
    renamed = token_program(tenant_id, token_name="Okta v2")
    with pytest.raises(Exception, match="a later step of the program failed"):
        stack.up(token_program(tenant_id, token_name="Okta v2", fail=True))
    assert len(live_ids(emulator, tenant_id)) == 2
    result = stack.up(renamed, refresh=refresh)
    assert result.steps[-1] == ("delete-replaced", urn())
    assert first.outputs["token_id"] not in live_ids(emulator, tenant_id)
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)


# -- bug 3: ScimToken.get of a token that is not there -------------------------------------------


def get_program(composite: str) -> Callable[[], None]:
    def program() -> None:
        token = ScimToken.get("existing", composite)
        pulumi.export("name", token.name)

    return program


def test_get_of_a_missing_token_fails_naming_the_id(stack: Stack, tenant_id: str) -> None:
    composite = f"{tenant_id}/{'0' * 32}"
    with pytest.raises(ProviderError, match=composite) as raised:
        stack.up(get_program(composite))
    assert raised.value.method == "Read"
    assert stack.state.resources == {}


def test_get_of_a_revoked_token_fails_naming_the_id(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    token = emulator.create_token(tenant_id, "Okta", 30)
    composite = f"{tenant_id}/{token['id']}"
    assert stack.up(get_program(composite)).outputs == {"name": "Okta"}
    assert emulator.delete_token(tenant_id, token["id"]) == 200
    with pytest.raises(ProviderError, match=composite):
        stack.up(get_program(composite))


def test_refresh_of_a_revoked_token_drops_it_from_state(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    result = stack.up(token_program(tenant_id))
    assert emulator.delete_token(tenant_id, result.outputs["token_id"]) == 200
    assert stack.refresh() == [("refresh-delete", urn())]
    assert stack.state.resources == {}


# -- the API token rotated in stack config -------------------------------------------------------


def test_refresh_uses_the_last_ups_api_token_and_a_401_says_so(
    stack: Stack, clean_emulator: Emulator, tenant_id: str
) -> None:
    stack.up(token_program(tenant_id))
    # `pulumi config set --secret localskills:apiToken <new>`, no `pulumi up` yet: the new
    # token is not even known to this server, yet refresh works, with the last up's token.
    stack.api_token = "lsk_" + "f" * 64
    assert stack.refresh() == [("refresh", urn())]
    # Now the server refuses the old token (revoked): refresh and destroy fail with a 401 that
    # tells the user why the rotated token was not used.
    clean_emulator.add_faults([{"action": "status", "status": 401, "times": 2}])
    for operation in (stack.refresh, stack.destroy):
        with pytest.raises(ProviderError) as raised:
            operation()
        assert "401" in raised.value.details
        assert "last `pulumi up`" in raised.value.details
        assert "localskills:apiToken" in raised.value.details
        assert not is_secret(raised.value.details)
        assert stack.api_token not in raised.value.details


# -- options and parallel calls, with ScimToken ---------------------------------------------------


def test_a_protected_token_is_neither_replaced_nor_revoked(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    stack.up(token_program(tenant_id, protect=True))
    with pytest.raises(Exception, match="marked for protection"):
        stack.up(token_program(tenant_id, token_name="Okta v2", protect=True))
    with pytest.raises(Exception, match="protected"):
        stack.up(lambda: None)
    with pytest.raises(Exception, match="protected"):
        stack.destroy()
    assert_state_on_live_tokens_and_no_orphans(stack, emulator, tenant_id)


def test_retain_on_delete_leaves_the_token_live_and_drops_it_from_state(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    result = stack.up(token_program(tenant_id, retain_on_delete=True))
    assert stack.up(lambda: None).steps == [("delete", urn())]
    assert stack.state.resources == {}
    assert live_ids(emulator, tenant_id) == {result.outputs["token_id"]}


def test_ignore_changes_keeps_the_token_when_an_ignored_input_changes(
    stack: Stack, emulator: Emulator, tenant_id: str
) -> None:
    first = stack.up(token_program(tenant_id))
    renamed = token_program(tenant_id, token_name="Okta v2", ignore_changes=["name"])
    assert stack.up(renamed).steps == [("same", urn())]
    assert unwrap(stack.state.resources[urn()].inputs["name"]) == "Okta"
    assert live_ids(emulator, tenant_id) == {first.outputs["token_id"]}


def many_tokens(tenant_id: str, count: int) -> Callable[[], None]:
    def program() -> None:
        for index in range(count):
            ScimToken(f"t{index}", tenant_id=tenant_id, name=f"IdP {index}", expires_in_days=30)

    return program


def test_many_tokens_refresh_with_one_listing_and_destroy_revokes_them_all(
    stack: Stack, clean_emulator: Emulator, tenant_id: str
) -> None:
    stack.up(many_tokens(tenant_id, 8))
    assert len(live_ids(clean_emulator, tenant_id)) == 8
    clean_emulator.clear_requests()
    steps = stack.refresh()
    assert sorted(steps) == sorted(("refresh", urn(f"t{i}")) for i in range(8))
    listings = [r for r in clean_emulator.requests_log() if r["method"] == "GET"]
    assert len(listings) == 1  # 8 concurrent reads share one listing of the tenant
    assert len(stack.destroy()) == 8
    assert live_ids(clean_emulator, tenant_id) == set()
    assert stack.state.resources == {}
