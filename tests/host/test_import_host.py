"""Import by composite ID, carried out by the provider in `create`, through the real host."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from tests.helpers import posts
from tests.host.scim import ROOT, props, scim_urn


@pytest.fixture
def isolated_emulator() -> Iterator[Emulator]:
    """An emulator of its own, for a test that moves the clock."""
    with Emulator() as running:
        yield running


def adopt(host: ProviderHost, **inputs: Any) -> tuple[str, dict[str, Any]]:
    checked = host.check(scim_urn(), {}, props(**inputs))
    assert checked.failures == [], checked.failures
    return host.create(scim_urn(), checked.inputs)


def test_import_adopts_the_live_token_without_a_post(
    host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    live = clean_emulator.create_token(tenant_id, "Okta SCIM", 90)
    clean_emulator.clear_requests()
    composite = f"{tenant_id}/{live['id']}"
    id_, outs = adopt(
        host, tenant_id=tenant_id, name="Okta SCIM", expires_in_days=90, import_id=composite
    )
    assert id_ == composite
    assert outs["token_id"] == live["id"] and outs["created_at"] == live["createdAt"]
    assert outs.get("token_value") is None
    assert posts(clean_emulator) == 0
    assert [t["id"] for t in clean_emulator.list_tokens(tenant_id)] == [live["id"]]


@pytest.mark.parametrize("keep_marker", [True, False], ids=["import_-kept", "import_-removed"])
def test_later_runs_plan_no_change_with_or_without_the_marker(
    host: ProviderHost, emulator: Emulator, tenant_id: str, keep_marker: bool
) -> None:
    live = emulator.create_token(tenant_id, "Okta", None)
    composite = f"{tenant_id}/{live['id']}"
    id_, outs = adopt(host, tenant_id=tenant_id, name="Okta", import_id=composite)
    news = props(tenant_id=tenant_id, name="Okta", import_id=composite if keep_marker else None)
    olds_inputs = props(tenant_id=tenant_id, name="Okta", import_id=composite)
    assert host.check(scim_urn(), olds_inputs, news).failures == []
    assert host.diff(id_, scim_urn(), outs, news).changes == "DIFF_NONE"


@pytest.mark.parametrize(
    "composite", ["a", "a/", "/b", "a/b/c", " a/b", "a/b "], ids=lambda value: repr(value)
)
def test_a_malformed_import_id_fails_check_with_the_expected_form(
    host: ProviderHost, clean_emulator: Emulator, composite: str
) -> None:
    checked = host.check(scim_urn(), {}, props(tenant_id="a", name="Okta", import_id=composite))
    assert [prop for prop, _ in checked.failures] == ["import_id"]
    assert "<tenant_id>/<token_id>" in checked.failures[0][1]
    assert clean_emulator.requests_log() == []


def test_an_import_id_of_another_tenant_fails_check(host: ProviderHost) -> None:
    checked = host.check(scim_urn(), {}, props(tenant_id="a", name="x", import_id="b/123"))
    assert checked.failures and "tenant_id" in checked.failures[0][1]


def test_importing_a_token_that_does_not_exist_says_so(host: ProviderHost, tenant_id: str) -> None:
    with pytest.raises(ProviderError) as raised:
        adopt(host, tenant_id=tenant_id, name="Okta", import_id=f"{tenant_id}/{'0' * 32}")
    assert f"tenant {tenant_id!r} has no SCIM token" in raised.value.details


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"name": "Google"}, "set name='Okta'"),
        ({"name": "Okta"}, "set expires_in_days=90"),
        ({"name": "Okta", "expires_in_days": 30}, "set expires_in_days=90"),
    ],
    ids=["name", "expires_in_days-missing", "expires_in_days-differs"],
)
def test_importing_with_inputs_that_differ_from_the_live_token_fails(
    host: ProviderHost,
    clean_emulator: Emulator,
    tenant_id: str,
    inputs: dict[str, Any],
    message: str,
) -> None:
    live = clean_emulator.create_token(tenant_id, "Okta", 90)
    clean_emulator.clear_requests()
    with pytest.raises(ProviderError) as raised:
        adopt(host, tenant_id=tenant_id, import_id=f"{tenant_id}/{live['id']}", **inputs)
    assert message in raised.value.details
    assert posts(clean_emulator) == 0


def test_import_marker_left_on_a_replaced_resource_fails_check(
    host: ProviderHost, emulator: Emulator, tenant_id: str
) -> None:
    live = emulator.create_token(tenant_id, "Okta", None)
    composite = f"{tenant_id}/{live['id']}"
    adopt(host, tenant_id=tenant_id, name="Okta", import_id=composite)
    # The engine keeps the checked inputs, import marker included, as the prior inputs.
    olds_inputs = props(tenant_id=tenant_id, name="Okta", import_id=composite)
    checked = host.check(
        scim_urn(), olds_inputs, props(tenant_id=tenant_id, name="Okta v2", import_id=composite)
    )
    assert [prop for prop, _ in checked.failures] == ["import_id"]
    assert "remove import_" in checked.failures[0][1]


def test_importing_a_token_due_for_rotation_by_the_servers_clock_is_refused(
    host: ProviderHost, isolated_emulator: Emulator
) -> None:
    tenant_id = isolated_emulator.new_tenant()
    live = isolated_emulator.create_token(tenant_id, "Okta", 90)
    # 80 days later by the server's clock (this machine's clock says it was issued just now).
    isolated_emulator.advance_clock(80 * 86400)
    config = {
        "localskills:apiToken": isolated_emulator.api_token,
        "localskills:baseUrl": isolated_emulator.base_url,
    }
    with ProviderHost(cwd=ROOT) as own_host:
        own_host.configure(config, secret_keys={"localskills:apiToken"})
        checked = own_host.check(
            scim_urn(),
            {},
            props(
                tenant_id=tenant_id,
                name="Okta",
                expires_in_days=90,
                rotate_before_days=14,
                import_id=f"{tenant_id}/{live['id']}",
            ),
        )
        with pytest.raises(ProviderError) as raised:
            own_host.create(scim_urn(), checked.inputs)
    assert "due for rotation" in raised.value.details
    assert "remove import_" in raised.value.details
