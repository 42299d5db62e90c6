"""Two stacks (staging and production, say two CI jobs) creating a token of the same name in one
tenant at once, through two real ``pulumi up`` runs. The first POST to arrive is committed and
answered 503; the orphan search that follows finds the other stack's fresh token beside its
own orphan, and nothing in a listing tells them apart. Neither stack may be left holding a
revoked token."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import Project, output, state_ids, tenant_requests
from tests.engine.conftest import MakeProject
from tests.helpers import live_ids

PROGRAM = """
import pulumi
from localskills_pulumi import ScimToken

token = ScimToken("okta", tenant_id=pulumi.Config().require("tenant"),
                  name="Okta SCIM Provisioning", expires_in_days=30)
pulumi.export("token_value", token.token_value)
"""
LISTING_DELAY_MS = 10_000
"""How long the orphan search's listing is held back before the server reads the tenant: the
other run's POST lands in that time, which makes the race happen on every run instead of in
3 trials of 9 (the two runs start within a second or two of each other)."""


def test_two_stacks_creating_one_name_at_once_leave_neither_holding_a_revoked_token(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    stacks = [make_project(PROGRAM, name=name, folder=name) for name in ("staging", "production")]
    for stack in stacks:
        stack.run("config", "set", "tenant", tenant_id)
    tokens = f"/api/tenants/{tenant_id}/"
    clean_emulator.add_faults(
        [
            {"method": "POST", "path_prefix": tokens, "action": "commit_then_status",
             "status": 503, "times": 1},
            {"method": "GET", "path_prefix": tokens, "action": "delay",
             "delay_ms": LISTING_DELAY_MS, "times": 1},
        ]
    )  # fmt: skip

    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda stack: stack.up(check=False), stacks))

    for done in runs:
        assert done.returncode == 0, output(done)
    for stack in stacks:
        value = stack.outputs(show_secrets=True)["token_value"]
        assert clean_emulator.scim_get_users(value).status_code == 200  # live, not revoked
    [warned] = [done for done in runs if "none was revoked" in output(done)]
    assert "warning: localskills-pulumi:" in output(warned)  # counted among the warnings
    held = state_ids(stacks[0]) | state_ids(stacks[1])
    live = live_ids(clean_emulator, tenant_id)
    [orphan] = live - held  # reported, to be revoked by hand; nothing revoked by guesswork
    assert len(held) == 2 and held < live
    other: Project = stacks[1] if warned is runs[0] else stacks[0]
    for token_id in (orphan, *state_ids(other)):
        assert token_id in output(warned)
    methods = [method for method, _ in tenant_requests(clean_emulator, tenant_id)]
    assert methods.count("POST") == 3 and "DELETE" not in methods
