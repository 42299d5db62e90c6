"""A stack of 2,000 tokens in 20 tenants through the real CLI, past the size where the SDK's
pickler defect stopped a program (near its 950th dynamic resource: localskills_pulumi/_pickler.py).

``up`` and ``destroy`` run with ``PULUMI_SKIP_CHECKPOINTS=true``, the README's advice for a
large stack: the file backend otherwise rewrites the whole checkpoint after every step, which
makes a 2,000-token ``up`` take about 7 minutes of the engine's own time (benchmarks/engine.py)
where this one takes about one. What the provider does is the same either way."""

from __future__ import annotations

from collections import Counter

from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import output, state_ids, tenant_requests
from tests.engine.conftest import MakeProject
from tests.helpers import live_ids

TOKENS = 2000
TENANTS = 20
FAST = {"PULUMI_SKIP_CHECKPOINTS": "true"}
PROGRAM = f"""
import pulumi
from localskills_pulumi import ScimToken

tenants = pulumi.Config().require("tenants").split(",")
for n in range({TOKENS}):
    ScimToken(f"token-{{n}}", tenant_id=tenants[n % len(tenants)], name=f"token {{n}}",
              expires_in_days=30)
"""


def test_2000_tokens_in_20_tenants_deploy_plan_no_change_refresh_and_destroy(
    make_project: MakeProject, clean_emulator: Emulator
) -> None:
    tenants = [clean_emulator.new_tenant("scale") for _ in range(TENANTS)]
    project = make_project(PROGRAM)
    project.run("config", "set", "tenants", ",".join(tenants))

    project.run("up", "--yes", "--skip-preview", env=FAST)
    held = state_ids(project)
    assert len(held) == TOKENS
    assert set().union(*(live_ids(clean_emulator, t) for t in tenants)) == held

    clean_emulator.clear_requests()
    again = project.run("up", "--yes", "--skip-preview")
    assert f"{TOKENS + 1} unchanged" in output(again)
    requests = [r for t in tenants for r in tenant_requests(clean_emulator, t)]
    assert {method for method, _ in requests} <= {"GET"}
    assert max(Counter(path for _, path in requests).values()) <= 1  # one listing per tenant

    refreshed = project.run("refresh", "--yes", "--skip-preview")
    assert f"{TOKENS + 1} unchanged" in output(refreshed)
    assert state_ids(project) == held

    project.run("destroy", "--yes", "--skip-preview", env=FAST)
    assert project.resources() == []
    assert all(live_ids(clean_emulator, t) == set() for t in tenants)
