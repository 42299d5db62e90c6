"""A token revoked outside Pulumi is seen by the plan itself (the provider's Diff), through the
real host: one listing per tenant for all the run's diffs, and never a failed diff."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import DiffResponse
from tests.host.scim import Engine, emulator_config, props, scim_urn


def listings(emulator: Emulator, tenant_id: str) -> int:
    path = f"/api/tenants/{tenant_id}/scim-tokens"
    return sum(1 for r in emulator.requests_log() if r["method"] == "GET" and r["path"] == path)


def diff_unchanged(host: ProviderHost, id_: str, outputs: dict[str, Any]) -> DiffResponse:
    """What `pulumi up` asks of a token whose program did not change: Diff(prior outputs,
    the same inputs)."""
    inputs = {k: outputs[k] for k in ("tenant_id", "name", "expires_in_days") if k in outputs}
    return host.diff(id_, scim_urn(), outputs, props(**inputs))


@pytest.fixture
def fresh_host(
    emulator: Emulator, host_factory: Callable[..., ProviderHost]
) -> Callable[..., ProviderHost]:
    """A host of its own per call: the provider's listing is shared for its process's life,
    as for one engine run."""

    def start(**config: Any) -> ProviderHost:
        return host_factory(emulator_config(emulator, **config))

    return start


def test_a_token_revoked_outside_pulumi_is_planned_for_replacement(
    fresh_host: Callable[..., ProviderHost], clean_emulator: Emulator, tenant_id: str
) -> None:
    id_, outputs = Engine(fresh_host()).up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    assert clean_emulator.delete_token(tenant_id, outputs["token_id"]) == 200  # the console

    diff = diff_unchanged(fresh_host(), id_, outputs)  # the next `pulumi up`: a new process
    assert diff.changes == "DIFF_SOME"
    assert diff.replaces == ["token_id"]
    assert diff.delete_before_replace is False


def test_a_live_token_plans_no_change(
    fresh_host: Callable[..., ProviderHost], clean_emulator: Emulator, tenant_id: str
) -> None:
    id_, outputs = Engine(fresh_host()).up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    clean_emulator.clear_requests()
    diff = diff_unchanged(fresh_host(), id_, outputs)
    assert diff.changes == "DIFF_NONE" and diff.replaces == []
    assert listings(clean_emulator, tenant_id) == 1


def test_a_hundred_tokens_of_one_tenant_diffed_at_once_cost_at_most_two_listings(
    fresh_host: Callable[..., ProviderHost], clean_emulator: Emulator, tenant_id: str
) -> None:
    tokens = [clean_emulator.create_token(tenant_id, f"Okta {i}", 30) for i in range(100)]
    revoked = tokens[57]
    assert clean_emulator.delete_token(tenant_id, revoked["id"]) == 200
    host = fresh_host()
    clean_emulator.clear_requests()
    results: dict[str, DiffResponse] = {}
    lock = threading.Lock()

    def diff(token: dict[str, Any]) -> None:
        outputs = {
            **props(tenant_id=tenant_id, name=token["name"], expires_in_days=30),
            "token_id": token["id"],
            "created_at": token["createdAt"],
            "expires_at": token["expiresAt"],
        }
        answer = diff_unchanged(host, f"{tenant_id}/{token['id']}", outputs)
        with lock:
            results[token["id"]] = answer

    # Four at a time, as the engine calls one host.
    for start in range(0, len(tokens), 4):
        batch = [threading.Thread(target=diff, args=(t,)) for t in tokens[start : start + 4]]
        for thread in batch:
            thread.start()
        for thread in batch:
            thread.join(60)

    assert results[revoked["id"]].replaces == ["token_id"]
    assert all(results[t["id"]].replaces == [] for t in tokens if t is not revoked)
    # One listing for all, and one more to be sure before calling a token revoked.
    assert listings(clean_emulator, tenant_id) <= 2


def test_an_unreachable_api_plans_nothing_for_liveness_and_warns_once(
    host_factory: Callable[..., ProviderHost], tenant_id: str, unused_port: int
) -> None:
    host = host_factory(
        {
            "localskills:apiToken": "lsk_" + "0" * 64,
            "localskills:baseUrl": f"http://127.0.0.1:{unused_port}",
            "localskills:maxRetries": "0",
        }
    )
    for token_id in ("one", "two", "three"):
        outputs = {
            **props(tenant_id=tenant_id, name="Okta", expires_in_days=30),
            "token_id": token_id,
        }
        diff = diff_unchanged(host, f"{tenant_id}/{token_id}", outputs)
        assert diff.changes == "DIFF_NONE" and diff.replaces == []
    warnings = [
        line for line in host.stderr_text().splitlines() if "could not list the SCIM tokens" in line
    ]
    assert len(warnings) == 1
    assert tenant_id in warnings[0] and "pulumi refresh" in warnings[0]


def test_a_listing_that_fails_is_tried_once_per_tenant_and_plans_nothing(
    fresh_host: Callable[..., ProviderHost], clean_emulator: Emulator, tenant_id: str
) -> None:
    id_, outputs = Engine(fresh_host()).up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    clean_emulator.add_faults(
        [
            {
                "method": "GET",
                "path_prefix": f"/api/tenants/{tenant_id}/",
                "action": "status",
                "status": 503,
                "times": 100,
            }
        ]
    )
    host = fresh_host(**{"localskills:maxRetries": "1"})
    clean_emulator.clear_requests()
    for _ in range(5):
        assert diff_unchanged(host, id_, outputs).replaces == []
    assert listings(clean_emulator, tenant_id) == 2  # the first attempt and its one retry
    assert "could not list the SCIM tokens" in host.stderr_text()


@pytest.mark.parametrize("value", ["false", "0", "no", "off"])
def test_the_liveness_check_can_be_turned_off(
    fresh_host: Callable[..., ProviderHost], clean_emulator: Emulator, tenant_id: str, value: str
) -> None:
    id_, outputs = Engine(fresh_host()).up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    assert clean_emulator.delete_token(tenant_id, outputs["token_id"]) == 200
    host = fresh_host(**{"localskills:checkLiveness": value})
    clean_emulator.clear_requests()
    assert diff_unchanged(host, id_, outputs).replaces == []
    assert listings(clean_emulator, tenant_id) == 0


def test_a_malformed_liveness_switch_warns_and_plans_nothing(
    fresh_host: Callable[..., ProviderHost], clean_emulator: Emulator, tenant_id: str
) -> None:
    id_, outputs = Engine(fresh_host()).up(tenant_id=tenant_id, name="Okta", expires_in_days=30)
    host = fresh_host(**{"localskills:checkLiveness": "maybe"})
    assert diff_unchanged(host, id_, outputs).replaces == []
    assert "localskills:checkLiveness must be true or false" in host.stderr_text()


def test_a_plain_plan_judges_the_rotation_window_by_the_servers_clock(
    host_factory: Callable[..., ProviderHost],
) -> None:
    with Emulator() as own:  # its clock moves
        tenant_id = own.new_tenant()
        host = host_factory(emulator_config(own))
        id_, outputs = Engine(host).up(
            tenant_id=tenant_id, name="Okta", expires_in_days=30, rotate_before_days=7
        )
        inputs = props(tenant_id=tenant_id, name="Okta", expires_in_days=30, rotate_before_days=7)
        # 25 days later by the server's clock; this machine's clock says the token is new.
        own.advance_clock(25 * 86400)
        next_run = host_factory(emulator_config(own))
        diff = next_run.diff(id_, scim_urn(), outputs, inputs)
    assert diff.replaces == ["expires_at"]
