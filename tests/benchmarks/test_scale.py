"""Many tenants in one stack cost one listing per tenant: 100 tokens in 10 tenants, refreshed and
planned by a plain `pulumi up` (the liveness check on, its default) through the stand-in engine
and Pulumi's dynamic-provider host. The 1,000-token figure, beside the list-per-read strategy:
``benchmarks/scale.py``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from localskills_pulumi import ScimToken
from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.settings import CONFIG_API_TOKEN, CONFIG_BASE_URL
from localskills_pulumi.testing import Emulator, HostPool, Stack
from tests.program.support import ROOT

TENANTS = 10
PER_TENANT = 10


def listings_by_tenant(emulator: Emulator, tenant_ids: list[str]) -> Counter[str]:
    paths = {f"/api/tenants/{t}/scim-tokens": t for t in tenant_ids}
    return Counter(
        paths[r["path"]]
        for r in emulator.requests_log()
        if r["method"] == "GET" and r["path"] in paths
    )


@pytest.fixture(scope="module")
def deployed(emulator: Emulator) -> Iterator[tuple[Stack, list[str]]]:
    """A stack of 100 tokens in 10 tenants, after its first `pulumi up`."""
    tenant_ids = [emulator.new_tenant("scale") for _ in range(TENANTS)]

    def program() -> None:
        for tenant_id in tenant_ids:
            for index in range(PER_TENANT):
                ScimToken(f"{tenant_id}-{index}", tenant_id=tenant_id, name=f"Okta {index}")

    with HostPool(cwd=ROOT) as hosts:
        stack = Stack(
            hosts,
            project="scale",
            program=program,
            config={CONFIG_API_TOKEN: emulator.api_token, CONFIG_BASE_URL: emulator.base_url},
            secret_config_keys={CONFIG_API_TOKEN},
        )
        created = stack.up()
        assert [step[0] for step in created.steps] == ["create"] * TENANTS * PER_TENANT
        yield stack, tenant_ids


def test_a_refresh_of_100_tokens_in_10_tenants_lists_each_tenant_once(
    deployed: tuple[Stack, list[str]], clean_emulator: Emulator
) -> None:
    stack, tenant_ids = deployed
    steps = stack.refresh()
    assert [step[0] for step in steps] == ["refresh"] * TENANTS * PER_TENANT
    assert listings_by_tenant(clean_emulator, tenant_ids) == Counter(dict.fromkeys(tenant_ids, 1))


def test_a_plain_up_of_100_tokens_in_10_tenants_checks_liveness_with_one_listing_per_tenant(
    deployed: tuple[Stack, list[str]], clean_emulator: Emulator
) -> None:
    stack, tenant_ids = deployed
    result = stack.up()
    assert {step[0] for step in result.steps} == {"same"}
    assert len(result.steps) == TENANTS * PER_TENANT
    # Every tenant listed (the liveness check ran), and only once.
    assert listings_by_tenant(clean_emulator, tenant_ids) == Counter(dict.fromkeys(tenant_ids, 1))
    assert all(urn.split("::")[2] == SCIM_TOKEN_TYPE for _, urn in result.steps)
