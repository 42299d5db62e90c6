"""The provider's rules, method by method, in this process against the in-process emulator.

Each test is one engine run: a fresh ``ScimTokenProvider`` (what the host unpickles) and a fresh
run memory (``configured``). That the engine calls these methods as assumed here is proven by
the host tier (``tests/host/``) and the real CLI (``tests/engine/``).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.runtime.rpc import is_rpc_secret, unwrap_rpc_secret

from localskills_pulumi import provider as provider_module
from localskills_pulumi.errors import AdoptionError, ConfigError, InputError
from localskills_pulumi.model import IMPORT_ID, INPUT_NAMES
from localskills_pulumi.provider import ScimTokenProvider
from localskills_pulumi.testing.emulator import Emulator
from tests.helpers import live_ids, posts

DAY = 86_400


def inputs(tenant_id: str, **overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "tenant_id": tenant_id,
        "name": "Okta SCIM Provisioning",
        "expires_in_days": 30,
        "rotate_before_days": None,
    }
    return {**props, **overrides}


def api_methods(emulator: Emulator) -> list[str]:
    """The methods of the API requests served since the log was cleared, in order."""
    return [r["method"] for r in emulator.requests_log() if r["path"].startswith("/api/")]


def issued(emulator: Emulator, tenant_id: str, **overrides: Any) -> tuple[str, dict[str, Any]]:
    """A token created by an earlier run: its ID and outputs (the state), the log cleared."""
    result = ScimTokenProvider().create(inputs(tenant_id, **overrides))
    provider_module._RUN = provider_module._RunMemory()  # that run is over (configured restores)
    emulator.clear_requests()
    return result.id, dict(result.outs)


def test_check_names_every_bad_input_and_sends_nothing(configured: Emulator) -> None:
    news = inputs("..", name="Okta\x07", expires_in_days=math.nan, rotate_before_days=10**9)
    failures = ScimTokenProvider().check({}, news).failures
    assert sorted(f.property for f in failures) == [
        "expires_in_days",
        "name",
        "rotate_before_days",
        "tenant_id",
    ]
    assert all(f.property in f.reason for f in failures)
    assert api_methods(configured) == []


def test_an_unknown_config_key_fails_check_naming_it(configured: Emulator) -> None:
    provider = ScimTokenProvider()
    raw = {"localskills:apiTokn": "x", "localskills:baseUrl": configured.base_url}
    provider.configure(ConfigureRequest(Config(raw, "project")))
    with pytest.raises(ConfigError, match="apiTokn"):
        provider.check({}, inputs("engineering"))


def test_create_returns_the_composite_id_and_the_value_as_a_secret(
    configured: Emulator, tenant_id: str
) -> None:
    result = ScimTokenProvider().create(inputs(tenant_id))
    assert result.outs is not None
    assert result.id == f"{tenant_id}/{result.outs['token_id']}"
    assert is_rpc_secret(result.outs["token_value"])
    assert live_ids(configured, tenant_id) == {result.outs["token_id"]}
    assert api_methods(configured) == ["POST"]


@pytest.mark.parametrize(
    ("changed", "value"), [("tenant_id", "o"), ("name", "n"), ("expires_in_days", 7)]
)
def test_every_token_input_replaces(
    configured: Emulator, tenant_id: str, changed: str, value: Any
) -> None:
    id_, outs = issued(configured, tenant_id)
    news = {**inputs(tenant_id), changed: value}
    diff = ScimTokenProvider().diff(id_, outs, news)
    assert diff.changes and diff.replaces == [changed]
    assert diff.delete_before_replace is False


def test_rotate_before_days_alone_is_an_update_in_place(
    configured: Emulator, tenant_id: str
) -> None:
    id_, outs = issued(configured, tenant_id)
    provider = ScimTokenProvider()
    diff = provider.diff(id_, outs, inputs(tenant_id, rotate_before_days=5))
    assert diff.changes and diff.replaces == []
    updated = provider.update(id_, outs, inputs(tenant_id, rotate_before_days=5)).outs
    assert updated is not None and updated["rotate_before_days"] == 5
    assert updated["token_id"] == outs["token_id"]
    assert api_methods(configured) == ["GET"]  # the liveness listing


def test_the_diffs_of_a_run_share_one_listing_per_tenant(
    configured: Emulator, tenant_id: str
) -> None:
    tokens = [issued(configured, tenant_id, name=f"t{n}") for n in range(5)]
    provider = ScimTokenProvider()
    for id_, outs in tokens:
        assert not provider.diff(id_, outs, {k: outs[k] for k in INPUT_NAMES}).changes
    assert api_methods(configured) == ["GET"]


def test_a_token_revoked_outside_pulumi_is_replaced_with_a_warning(
    configured: Emulator, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    id_, outs = issued(configured, tenant_id)
    assert configured.delete_token(tenant_id, outs["token_id"]) == 200
    diff = ScimTokenProvider().diff(id_, outs, inputs(tenant_id))
    assert diff.replaces == ["token_id"]
    assert f"SCIM token {id_} was revoked outside Pulumi" in capsys.readouterr().err


def test_rotation_is_due_by_the_servers_clock(
    configured: Emulator, tenant_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    id_, outs = issued(configured, tenant_id, rotate_before_days=10)
    news = inputs(tenant_id, rotate_before_days=10)
    assert ScimTokenProvider().diff(id_, outs, news).replaces == []
    configured.advance_clock(25 * DAY)  # this machine's clock does not move
    try:
        assert ScimTokenProvider().diff(id_, outs, news).replaces == ["expires_at"]
    finally:
        configured.advance_clock(-25 * DAY)
    assert "rotating it" in capsys.readouterr().err


def test_adoption_sends_no_post_and_has_no_value(configured: Emulator, tenant_id: str) -> None:
    token = configured.create_token(tenant_id, "Okta SCIM Provisioning", 30)
    configured.clear_requests()
    adopted = ScimTokenProvider().create(
        inputs(tenant_id, **{IMPORT_ID: f"{tenant_id}/{token['id']}"})
    )
    assert adopted.id == f"{tenant_id}/{token['id']}"
    assert adopted.outs is not None and adopted.outs["token_value"] is None
    assert IMPORT_ID not in adopted.outs
    assert api_methods(configured) == ["GET"]


def test_adoption_refuses_inputs_that_differ_from_the_live_token_naming_the_fix(
    configured: Emulator, tenant_id: str
) -> None:
    token = configured.create_token(tenant_id, "Entra ID", None)
    marker = {IMPORT_ID: f"{tenant_id}/{token['id']}"}
    with pytest.raises(AdoptionError) as refused:
        ScimTokenProvider().create(inputs(tenant_id, **marker))
    assert "set name='Entra ID'" in str(refused.value)
    assert "remove expires_in_days" in str(refused.value)
    assert posts(configured) == 0


def test_refresh_drops_a_token_that_is_gone_and_get_names_it(
    configured: Emulator, tenant_id: str
) -> None:
    id_, outs = issued(configured, tenant_id)
    configured.delete_token(tenant_id, outs["token_id"])
    assert ScimTokenProvider().read(id_, outs).id == ""
    with pytest.raises(InputError, match="has no SCIM token"):
        ScimTokenProvider().read(id_, {})


def test_refresh_keeps_the_secret_and_takes_the_live_name(
    configured: Emulator, tenant_id: str
) -> None:
    id_, outs = issued(configured, tenant_id)
    read = ScimTokenProvider().read(id_, outs)
    assert read.id == id_ and read.outs is not None
    assert unwrap_rpc_secret(read.outs["token_value"]) == unwrap_rpc_secret(outs["token_value"])
    assert read.inputs == {k: outs[k] for k in INPUT_NAMES}


def test_delete_never_revokes_a_token_this_run_handed_back(
    configured: Emulator, tenant_id: str
) -> None:
    provider = ScimTokenProvider()
    created = provider.create(inputs(tenant_id))
    assert created.outs is not None
    provider.delete(created.id, dict(created.outs))
    assert live_ids(configured, tenant_id) == {created.outs["token_id"]}


def test_delete_revokes_and_an_already_revoked_token_counts_as_revoked(
    configured: Emulator, tenant_id: str
) -> None:
    id_, outs = issued(configured, tenant_id)
    ScimTokenProvider().delete(id_, outs)
    assert live_ids(configured, tenant_id) == set()
    ScimTokenProvider().delete(id_, outs)
    assert api_methods(configured) == ["DELETE", "DELETE"]


def test_import_may_not_ride_a_replacement(configured: Emulator, tenant_id: str) -> None:
    id_, outs = issued(configured, tenant_id)
    news = inputs(tenant_id, name="renamed", **{IMPORT_ID: id_})
    failures = ScimTokenProvider().check(outs, news).failures
    assert [f.property for f in failures] == [IMPORT_ID]
    assert "remove import_" in failures[0].reason
