"""Stacks past the size where the SDK's pickler defect used to stop a program, through the real
CLI (localskills_pulumi/_pickler.py)."""

from __future__ import annotations

from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import output, tenant_requests
from tests.engine.conftest import MakeProject

TOKENS = 1200  # the SDK's defect stopped a program near its 950th dynamic resource


def test_a_preview_of_1200_tokens_plans_them_all(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(
        f"""
        import pulumi
        from localskills_pulumi import ScimToken

        tenant = pulumi.Config().require("tenant")
        for n in range({TOKENS}):
            ScimToken(f"token-{{n}}", tenant_id=tenant, name=f"token {{n}}", expires_in_days=30)
        """
    )
    project.run("config", "set", "tenant", tenant_id)

    preview = project.run("preview")

    assert f"+ {TOKENS + 1} to create" in output(preview)
    assert tenant_requests(clean_emulator, tenant_id) == []
