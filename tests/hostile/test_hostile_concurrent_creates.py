"""Two creates of the same name in one tenant must never revoke each other.

The engine runs up to 4 provider calls at once in one host. Here 4 creates of the same name in
one tenant run at once through the real host, against the emulator, while some POSTs fail
ambiguously (the token is committed, then the answer is a 500 or a reset). After an ambiguous
failure the client looks for the token that attempt may have made and revokes it; a sibling's
token whose answer is still on its way looks just the same. In half the trials a relay holds
every successful POST's answer for 0.3 s after the emulator committed it, which makes that
window wide.

Counted across every trial (8 trials of 4 creates, so 32 tokens handed back per variant):
tokens handed back as created and then revoked by the client must be 0, and live tokens that
nobody was handed (orphans) must be 0. Before the create slots (the client of commit 8a3379b,
this same file run against it three times): 17, 14 and 15 of 32 handed-back tokens revoked
with the answers held, 0, 1 and 2 of 32 with the answers at once; no orphans.

This file imports only what that older commit also has, so it runs against it unchanged.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pytest

from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import ProviderHost
from localskills_pulumi.testing.provider_client import ProviderError
from tests.host.scim import props, scim_urn, start_host
from tests.hostile.servers import Forwarder, HostileServer

CREATES = 4  # the host serves 4 calls at once
TRIALS = 8
NAME = "Okta SCIM Provisioning"

FAULTS: list[list[dict[str, Any]]] = [
    [{"method": "POST", "times": 1, "action": "commit_then_status", "status": 500}],
    [{"method": "POST", "times": 2, "action": "commit_then_status", "status": 500}],
    [{"method": "POST", "times": 1, "action": "commit_then_reset"}],
    [
        {"method": "POST", "times": 1, "action": "commit_then_reset"},
        {"method": "POST", "times": 1, "action": "commit_then_status", "status": 502},
    ],
]


@dataclass
class Tally:
    """What the trials did: tokens handed back, of those revoked, orphans left."""

    handed_back: int = 0
    revoked_after_handed_back: int = 0
    orphans: int = 0
    failed_creates: int = 0
    errors: list[str] = field(default_factory=list)


def run_trial(
    host: ProviderHost, emulator: Emulator, faults: list[dict[str, Any]], tally: Tally
) -> None:
    """4 creates of one name at once in a fresh tenant, with ``faults`` on its POSTs."""
    tenant_id = emulator.new_tenant("race")
    emulator.add_faults([{**rule, "path_prefix": f"/api/tenants/{tenant_id}/"} for rule in faults])
    checked = host.check(scim_urn(), {}, props(tenant_id=tenant_id, name=NAME))
    assert checked.failures == []
    start = threading.Barrier(CREATES)
    handed: list[str] = []
    lock = threading.Lock()

    def one_create() -> None:
        start.wait(timeout=30)
        try:
            _, outputs = host.create(scim_urn(), checked.inputs)
        except ProviderError as exc:
            with lock:
                tally.failed_creates += 1
                tally.errors.append(exc.details.strip().splitlines()[-1])
            return
        with lock:
            handed.append(outputs["token_id"])

    threads = [threading.Thread(target=one_create) for _ in range(CREATES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()
    live = {t["id"] for t in emulator.list_tokens(tenant_id) if t["name"] == NAME}
    tally.handed_back += len(handed)
    tally.revoked_after_handed_back += len(set(handed) - live)
    tally.orphans += len(live - set(handed))


@pytest.mark.parametrize("post_delay", [0.0, 0.3], ids=["answers at once", "answers held"])
def test_concurrent_creates_of_one_name_never_revoke_a_token_handed_back(
    emulator: Emulator, post_delay: float
) -> None:
    tally = Tally()
    with HostileServer(Forwarder(emulator.base_url, post_delay=post_delay)) as relay:
        host = start_host(
            {
                "localskills:apiToken": emulator.api_token,
                "localskills:baseUrl": relay.base_url,
                "localskills:maxRetries": "3",
                "localskills:requestTimeout": "10",
            }
        )
        try:
            for trial in range(TRIALS):
                emulator.clear_faults()
                run_trial(host, emulator, FAULTS[trial % len(FAULTS)], tally)
        finally:
            emulator.clear_faults()
            host.stop()
    print(
        f"POST answers held {post_delay} s: {tally.handed_back} tokens handed back, "
        f"{tally.revoked_after_handed_back} of them revoked by the client, "
        f"{tally.orphans} orphans, {tally.failed_creates} creates failed {tally.errors}"
    )
    assert tally.revoked_after_handed_back == 0
    assert tally.orphans == 0
    # Every create succeeds: each trial injects fewer faults than there are retries.
    assert tally.failed_creates == 0, tally.errors
    assert tally.handed_back == TRIALS * CREATES
