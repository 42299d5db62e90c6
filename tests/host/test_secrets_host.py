"""Canary secrets through every path of the provider, failures included: they never leak."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from localskills_pulumi.testing.wire import is_secret, unwrap
from tests.host.scim import PROVIDER, props, scim_urn

CANARY_API_TOKEN = "lsk_" + "ca11ab1e" * 8


def test_no_secret_reaches_logs_errors_failures_or_plain_outputs(
    host_factory: Callable[..., ProviderHost], emulator: Emulator
) -> None:
    tenant_id = f"canary-{uuid.uuid4().hex[:8]}"
    response = requests.post(
        f"{emulator.base_url}/_emulator/tenants",
        json={"id": tenant_id, "name": "Canary", "api_tokens": [CANARY_API_TOKEN]},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    host = host_factory(
        {
            "localskills:apiToken": CANARY_API_TOKEN,
            "localskills:baseUrl": emulator.base_url,
            "localskills:maxRetries": "1",
        }
    )
    seen: list[Any] = []  # everything the engine or the user could see that is not a secret

    def expect_failure(call: Callable[[], Any]) -> None:
        with pytest.raises(ProviderError) as raised:
            call()
        seen.append(raised.value.details)

    seen.append(host.check(scim_urn(), {}, props(tenant_id="a/b", name="")).failures)
    checked = host.check(scim_urn(), {}, props(tenant_id=tenant_id, name="Okta"))
    id_, outs = host.create(scim_urn(), checked.inputs)
    scim_secret = unwrap(outs["token_value"])
    assert is_secret(outs["token_value"])
    seen.append({k: v for k, v in outs.items() if k != "token_value"})

    read = host.read(id_, scim_urn(), outs)
    assert is_secret(read.outputs["token_value"])
    seen.append({k: v for k, v in read.outputs.items() if k != "token_value"})
    seen.append(read.inputs)
    seen.append(host.read(id_, scim_urn("got"), {}, inputs=props()).outputs)
    seen.append(host.diff(id_, scim_urn(), outs, props(tenant_id=tenant_id, name="x")))

    updated = host.update(id_, scim_urn(), outs, {**checked.inputs, "rotate_before_days": 1})
    assert is_secret(updated["token_value"])
    seen.append({k: v for k, v in updated.items() if k != "token_value"})
    expect_failure(lambda: host.create(scim_urn(), props(tenant_id="no-such-team", name="x")))
    expect_failure(lambda: host.create(scim_urn(), props(tenant_id="engineering", name="x")))
    emulator.add_faults(
        [{"method": "POST", "times": 2, "action": "commit_then_status", "status": 500}]
    )
    try:
        expect_failure(lambda: host.create(scim_urn(), checked.inputs))
    finally:
        emulator.clear_faults()
    host.delete(id_, scim_urn(), outs)  # handed back by this process: kept, says so on stderr
    made = requests.post(  # by an earlier run
        emulator.tokens_url(tenant_id),
        json={"name": "Earlier"},
        headers={"Authorization": f"Bearer {CANARY_API_TOKEN}"},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    earlier = made.json()["data"]
    earlier_id = f"{tenant_id}/{earlier['id']}"
    earlier_outs = props(tenant_id=tenant_id, name="Earlier", token_id=earlier["id"])
    host.delete(earlier_id, scim_urn("earlier"), earlier_outs)
    seen.append(host.read(earlier_id, scim_urn("earlier"), earlier_outs))

    seen.extend([PROVIDER, host.stderr_text(), host.stdout_text()])
    text = repr(seen)
    assert CANARY_API_TOKEN not in text
    assert scim_secret not in text
    assert len(seen) > 10
