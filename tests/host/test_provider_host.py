"""ScimTokenProvider inside `python -m pulumi.dynamic`, called over gRPC as the engine calls it."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import dill
import pytest

from localskills_pulumi.provider import ScimTokenProvider
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from localskills_pulumi.testing.wire import PROVIDER_KEY, UNKNOWN, is_secret, unwrap
from tests.host.scim import Engine, emulator_config, props, scim_urn


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def list_calls(emulator: Emulator, tenant_id: str) -> int:
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    return sum(1 for r in emulator.requests_log() if r["method"] == "GET" and r["path"] == path)


# -- create ----------------------------------------------------------------------------------


def test_create_issues_a_working_token_returned_as_a_secret(
    engine: Engine, emulator: Emulator, tenant_id: str
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta SCIM", expires_in_days=30)
    token_id = outs["token_id"]
    assert id_ == f"{tenant_id}/{token_id}"
    assert is_secret(outs["token_value"])
    assert unwrap(outs["token_value"]).startswith("lsk_scim_")
    assert outs["expires_in_days"] == 30 and outs["expires_at"] and outs["created_at"]
    assert outs.get("last_used_at") is None
    assert [t["id"] for t in emulator.list_tokens(tenant_id)] == [token_id]
    assert emulator.scim_get_users(unwrap(outs["token_value"])).status_code == 200


def test_check_refuses_bad_inputs_before_any_request(
    host: ProviderHost, clean_emulator: Emulator
) -> None:
    checked = host.check(
        scim_urn(),
        {},
        props(tenant_id="a/b", name="  ", expires_in_days=0, rotate_before_days=True),
    )
    assert {prop for prop, _ in checked.failures} == {
        "tenant_id",
        "name",
        "expires_in_days",
        "rotate_before_days",
    }
    assert all(prop in reason for prop, reason in checked.failures)
    assert clean_emulator.requests_log() == []


def test_check_passes_unknown_inputs_in_a_preview(host: ProviderHost) -> None:
    checked = host.check(scim_urn(), {}, props(tenant_id=UNKNOWN, name=UNKNOWN, expires_in_days=30))
    assert checked.failures == []
    assert checked.inputs["tenant_id"] == UNKNOWN


def test_create_in_an_unknown_tenant_says_the_tenant_does_not_exist(host: ProviderHost) -> None:
    checked = host.check(scim_urn(), {}, props(tenant_id="no-such-team", name="x"))
    with pytest.raises(ProviderError, match="Tenant 'no-such-team' does not exist"):
        host.create(scim_urn(), checked.inputs)


# -- diff ------------------------------------------------------------------------------------


def test_changed_inputs_are_replaced_create_before_delete(
    engine: Engine, host: ProviderHost, tenant_id: str
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    news = props(tenant_id=tenant_id, name="Okta v2", expires_in_days=60)
    diff = host.diff(id_, scim_urn(), outs, news)
    assert diff.changes == "DIFF_SOME"
    assert sorted(diff.replaces) == ["expires_in_days", "name"]
    assert diff.delete_before_replace is False


def test_unchanged_inputs_plan_no_change(
    engine: Engine, host: ProviderHost, tenant_id: str
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    diff = host.diff(
        id_, scim_urn(), outs, props(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    )
    assert (diff.changes, diff.replaces) == ("DIFF_NONE", [])


def test_a_repickled_provider_never_rotates_a_token(
    engine: Engine, host: ProviderHost, tenant_id: str
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta")
    repickled = base64.b64encode(dill.dumps(ScimTokenProvider(), protocol=2)).decode()
    assert repickled != outs[PROVIDER_KEY]
    news = {**props(tenant_id=tenant_id, name="Okta"), PROVIDER_KEY: repickled}
    assert host.diff(id_, scim_urn(), outs, news).changes == "DIFF_NONE"


def test_an_unknown_input_in_a_preview_counts_as_a_change(
    engine: Engine, host: ProviderHost, tenant_id: str
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta")
    diff = host.diff(id_, scim_urn(), outs, props(tenant_id=tenant_id, name=UNKNOWN))
    assert diff.changes == "DIFF_SOME" and diff.replaces == ["name"]


@pytest.mark.parametrize(
    ("expires_in", "rotate_before_days", "due"),
    [
        (timedelta(days=-1), None, True),  # expired
        (timedelta(days=10), 14, True),  # inside the rotation window
        (timedelta(days=20), 14, False),
        (timedelta(days=10), None, False),
    ],
)
def test_expiry_plans_a_replacement_with_expires_at_as_the_reason(
    host: ProviderHost,
    emulator: Emulator,
    tenant_id: str,
    expires_in: timedelta,
    rotate_before_days: int | None,
    due: bool,
) -> None:
    now = datetime.now(timezone.utc)
    live = emulator.create_token(tenant_id, "Okta", 90)  # live: only expiry can replace it
    inputs = {"tenant_id": tenant_id, "name": "Okta", "expires_in_days": 90}
    if rotate_before_days:
        inputs["rotate_before_days"] = rotate_before_days
    olds = {**props(**inputs), "token_id": live["id"], "expires_at": iso(now + expires_in)}
    diff = host.diff(f"{tenant_id}/{live['id']}", scim_urn(), olds, props(**inputs))
    assert diff.replaces == (["expires_at"] if due else [])
    assert diff.delete_before_replace is False


# -- read ------------------------------------------------------------------------------------


def test_refresh_keeps_the_secret_and_returns_inputs(
    engine: Engine, host: ProviderHost, tenant_id: str
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    read = host.read(id_, scim_urn(), outs)
    assert read.id == id_
    assert is_secret(read.outputs["token_value"])
    assert unwrap(read.outputs["token_value"]) == unwrap(outs["token_value"])
    assert read.inputs is not None
    assert {k: v for k, v in read.inputs.items() if k != PROVIDER_KEY} == {
        "tenant_id": tenant_id,
        "name": "Okta",
        "expires_in_days": 30,
    }


def test_refresh_after_an_out_of_band_revoke_drops_the_resource(
    engine: Engine, host: ProviderHost, emulator: Emulator, tenant_id: str
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta")
    assert emulator.delete_token(tenant_id, outs["token_id"]) == 200
    assert host.read(id_, scim_urn(), outs).id == ""


def test_get_reads_a_token_by_composite_id(
    host: ProviderHost, emulator: Emulator, tenant_id: str
) -> None:
    live = emulator.create_token(tenant_id, "Entra ID", 90)
    read = host.read(f"{tenant_id}/{live['id']}", scim_urn("got"), {}, inputs=props())
    assert read.id == f"{tenant_id}/{live['id']}"
    assert read.outputs["name"] == "Entra ID"
    assert read.outputs["expires_in_days"] == 90
    assert read.outputs.get("token_value") is None


def test_get_with_a_malformed_id_names_the_expected_form(host: ProviderHost) -> None:
    with pytest.raises(ProviderError, match="<tenant_id>/<token_id>"):
        host.read("just-a-token", scim_urn("got"), {}, inputs=props())


def test_reads_close_together_share_one_listing(
    host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    ids = [clean_emulator.create_token(tenant_id, f"t{i}")["id"] for i in range(12)]
    clean_emulator.clear_requests()
    results: list[str] = []

    def refresh(token_id: str) -> None:
        results.append(host.read(f"{tenant_id}/{token_id}", scim_urn(token_id), props()).id)

    threads = [threading.Thread(target=refresh, args=(token_id,)) for token_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == sorted(f"{tenant_id}/{token_id}" for token_id in ids)
    assert list_calls(clean_emulator, tenant_id) == 1


def test_own_create_invalidates_the_shared_listing(
    engine: Engine, host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    first_id, first = engine.up("first", tenant_id=tenant_id, name="a")
    assert host.read(first_id, scim_urn("first"), first).id == first_id
    second_id, second = engine.up("second", tenant_id=tenant_id, name="b")
    assert host.read(second_id, scim_urn("second"), second).id == second_id
    assert list_calls(clean_emulator, tenant_id) == 2


# -- delete and update -----------------------------------------------------------------------


def test_delete_revokes_and_a_missing_token_counts_as_deleted(
    host: ProviderHost, emulator: Emulator, tenant_id: str
) -> None:
    # A token an earlier run created: this process never handed it back.
    live = emulator.create_token(tenant_id, "Okta", 30)
    id_ = f"{tenant_id}/{live['id']}"
    outs = props(tenant_id=tenant_id, name="Okta", expires_in_days=30, token_id=live["id"])
    host.delete(id_, scim_urn(), outs)
    assert emulator.list_tokens(tenant_id) == []
    host.delete(id_, scim_urn(), outs)
    assert emulator.scim_get_users(live["token"]).status_code == 401


def test_delete_never_revokes_a_token_this_run_handed_back(
    engine: Engine, host: ProviderHost, emulator: Emulator, tenant_id: str
) -> None:
    # One host process is one engine run: a token its create returned stays in the stack
    # (e.g. import_ adopted it again when the engine replaced the resource itself).
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta")
    host.delete(id_, scim_urn(), outs)
    assert [t["id"] for t in emulator.list_tokens(tenant_id)] == [outs["token_id"]]
    assert emulator.scim_get_users(unwrap(outs["token_value"])).status_code == 200
    [line] = [ln for ln in host.stderr_text().splitlines() if id_ in ln]
    assert "not revoking SCIM token" in line and "remove import_" in line.lower()


def test_update_takes_a_new_rotate_before_days_and_sends_nothing(
    engine: Engine, host: ProviderHost, tenant_id: str, emulator: Emulator
) -> None:
    id_, outs = engine.up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    emulator.clear_requests()

    updated = host.update(
        id_, scim_urn(), outs,
        props(tenant_id=tenant_id, name="Okta", expires_in_days=30, rotate_before_days=7),
    )  # fmt: skip

    assert updated["rotate_before_days"] == 7
    assert updated["token_id"] == outs["token_id"]
    assert is_secret(updated["token_value"])
    assert unwrap(updated["token_value"]) == unwrap(outs["token_value"])
    assert [r for r in emulator.requests_log() if tenant_id in r["path"]] == []


# -- faults: no live token that nobody holds --------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        {"action": "commit_then_status", "status": 500},
        {"action": "commit_then_reset"},
        {"action": "reset"},
        {"action": "status", "status": 429, "retry_after": 1},
        {"action": "status", "status": 503},
    ],
    ids=lambda rule: f"{rule['action']}-{rule.get('status', '')}",
)
def test_after_a_create_fault_every_live_token_is_in_state(
    engine: Engine, clean_emulator: Emulator, tenant_id: str, rule: dict[str, Any]
) -> None:
    clean_emulator.add_faults([{"method": "POST", **rule}])
    _, outs = engine.up(tenant_id=tenant_id, name="Okta")
    assert {t["id"] for t in clean_emulator.list_tokens(tenant_id)} == {outs["token_id"]}


def test_a_create_that_keeps_failing_leaves_no_token_and_says_why(
    host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    clean_emulator.add_faults(
        [{"method": "POST", "times": 5, "action": "commit_then_status", "status": 502}]
    )
    checked = host.check(scim_urn(), {}, props(tenant_id=tenant_id, name="Okta"))
    with pytest.raises(ProviderError) as raised:
        host.create(scim_urn(), checked.inputs)
    assert "HTTP 502" in raised.value.details and "create SCIM token 'Okta'" in raised.value.details
    assert clean_emulator.list_tokens(tenant_id) == []


# -- credentials -----------------------------------------------------------------------------


def test_missing_api_token_names_both_ways_to_set_it(
    host_factory: Callable[..., ProviderHost], emulator: Emulator, tenant_id: str
) -> None:
    bare = host_factory({"localskills:baseUrl": emulator.base_url})
    checked = bare.check(scim_urn(), {}, props(tenant_id=tenant_id, name="Okta"))
    with pytest.raises(ProviderError) as raised:
        bare.create(scim_urn(), checked.inputs)
    assert "localskills:apiToken" in raised.value.details
    assert "LOCALSKILLS_API_TOKEN" in raised.value.details


def test_environment_credentials_are_used_without_stack_config(
    host_factory: Callable[..., ProviderHost], emulator: Emulator, tenant_id: str
) -> None:
    env_host = host_factory(
        {},
        env={
            "LOCALSKILLS_API_TOKEN": emulator.api_token,
            "LOCALSKILLS_BASE_URL": emulator.base_url,
        },
    )
    checked = env_host.check(scim_urn(), {}, props(tenant_id=tenant_id, name="Okta"))
    _, outs = env_host.create(scim_urn(), checked.inputs)
    assert [t["id"] for t in emulator.list_tokens(tenant_id)] == [outs["token_id"]]


def test_api_token_without_prefix_is_refused_before_any_request(
    host_factory: Callable[..., ProviderHost], clean_emulator: Emulator, tenant_id: str
) -> None:
    canary = "scimcanary" + "9" * 30
    wrong = host_factory({**emulator_config(clean_emulator), "localskills:apiToken": canary})
    checked = wrong.check(scim_urn(), {}, props(tenant_id=tenant_id, name="Okta"))
    with pytest.raises(ProviderError) as raised:
        wrong.create(scim_urn(), checked.inputs)
    assert "does not start with 'lsk_'" in raised.value.details
    assert canary not in raised.value.details
    assert clean_emulator.requests_log() == []


def test_own_delete_invalidates_the_shared_listing(
    engine: Engine, host: ProviderHost, clean_emulator: Emulator, tenant_id: str
) -> None:
    made = clean_emulator.create_token(tenant_id, "a", None)  # by an earlier run
    first_id = f"{tenant_id}/{made['id']}"
    first = props(tenant_id=tenant_id, name="a", token_id=made["id"])
    second_id, second = engine.up("second", tenant_id=tenant_id, name="b")
    clean_emulator.clear_requests()
    assert host.read(second_id, scim_urn("second"), second).id == second_id
    host.delete(first_id, scim_urn("first"), first)
    assert host.read(first_id, scim_urn("first"), first).id == ""
    assert list_calls(clean_emulator, tenant_id) == 2
