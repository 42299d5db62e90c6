"""The engine's other paths through the real CLI: replacements, refresh, healing, rotation,
failed runs, protect, retain_on_delete, parallelism."""

from __future__ import annotations

import pytest

from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import Project, output, state_ids, tenant_requests
from tests.engine.conftest import MakeProject
from tests.helpers import live_ids

PROGRAM = """
import pulumi
from localskills_pulumi import ScimToken

config = pulumi.Config()
ScimToken("okta", tenant_id=config.require("tenant"), name=config.get("name") or "Okta",
          expires_in_days=30, rotate_before_days=14,
          opts=pulumi.ResourceOptions({options}))
"""


def deployed(make_project: MakeProject, tenant_id: str, options: str = "", **kw: object) -> Project:
    project = make_project(PROGRAM.format(options=options), **kw)
    project.run("config", "set", "tenant", tenant_id)
    project.up()
    return project


def urn(project: Project, name: str = "okta") -> str:
    return f"urn:pulumi:dev::{project.name}::{SCIM_TOKEN_TYPE}::{name}"


def methods(emulator: Emulator, tenant_id: str) -> list[str]:
    """The tenant's POSTs and DELETEs, in the order the emulator served them."""
    return [m for m, _ in tenant_requests(emulator, tenant_id) if m in ("POST", "DELETE")]


def assert_replaced_once(project: Project, emulator: Emulator, tenant_id: str, old: set[str]):
    """One live token, the state's, and not the old one."""
    assert live_ids(emulator, tenant_id) == state_ids(project)
    assert len(state_ids(project)) == 1
    assert state_ids(project).isdisjoint(old)


def test_an_input_change_replaces_create_before_delete(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    old = state_ids(project)
    clean_emulator.clear_requests()
    project.run("config", "set", "name", "Okta 2")

    done = project.up()

    assert "replaced" in output(done)
    assert methods(clean_emulator, tenant_id) == ["POST", "DELETE"]
    assert_replaced_once(project, clean_emulator, tenant_id, old)


def test_delete_before_replace_revokes_first(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id, "delete_before_replace=True")
    old = state_ids(project)
    clean_emulator.clear_requests()
    project.run("config", "set", "name", "Okta 2")

    project.up()

    assert methods(clean_emulator, tenant_id) == ["DELETE", "POST"]
    assert_replaced_once(project, clean_emulator, tenant_id, old)


def test_up_replace_urn_issues_a_new_token_and_revokes_the_old(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    old = state_ids(project)

    project.up("--replace", urn(project))

    assert_replaced_once(project, clean_emulator, tenant_id, old)


def test_state_taint_replaces_on_the_next_up(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    old = state_ids(project)

    project.run("state", "taint", urn(project), "--yes")
    project.up()

    assert_replaced_once(project, clean_emulator, tenant_id, old)


def test_refresh_drops_a_token_revoked_outside_pulumi(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    (token_id,) = state_ids(project)
    assert clean_emulator.delete_token(tenant_id, token_id) == 200

    project.run("refresh", "--yes")

    assert project.resources() == []


def test_a_plain_up_heals_a_token_revoked_outside_pulumi(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    old = state_ids(project)
    (token_id,) = old
    assert clean_emulator.delete_token(tenant_id, token_id) == 200

    project.up()

    assert_replaced_once(project, clean_emulator, tenant_id, old)


def test_up_rotates_a_token_inside_its_rotation_window(
    make_project: MakeProject, tenant_id: str
) -> None:
    with Emulator() as own_clock:  # the clock moves for this test only
        tenant = own_clock.new_tenant()
        project = deployed(make_project, tenant, emulator=own_clock)
        old = state_ids(project)
        project.up()
        assert state_ids(project) == old  # outside the window: no change

        own_clock.advance_clock(20 * 86400)  # 10 days left, rotate_before_days=14
        project.up()

        assert_replaced_once(project, own_clock, tenant, old)


def test_a_failed_run_leaves_the_old_token_pending_delete_and_the_next_up_revokes_it(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    old = state_ids(project)
    project.run("config", "set", "localskills:maxRetries", "0")
    project.run("config", "set", "name", "Okta 2")
    clean_emulator.add_faults(
        [
            {
                "method": "DELETE",
                "path_prefix": f"/api/tenants/{tenant_id}/",
                "action": "status",
                "status": 503,
                "times": 10,
            }
        ]
    )

    failed = project.up(check=False)

    assert failed.returncode != 0
    pending = [r["outputs"]["token_id"] for r in project.resources() if r.get("delete")]
    assert set(pending) == old
    clean_emulator.clear_faults()

    project.up()

    assert [r for r in project.resources() if r.get("delete")] == []
    assert_replaced_once(project, clean_emulator, tenant_id, old)


def test_destroy_of_a_protected_token_fails_and_revokes_nothing(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id, "protect=True")

    done = project.run("destroy", "--yes", check=False)

    assert done.returncode != 0
    assert "protected" in output(done)
    assert live_ids(clean_emulator, tenant_id) == state_ids(project) != set()


def test_destroy_with_retain_on_delete_keeps_the_token_live(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id, "retain_on_delete=True")
    kept = state_ids(project)

    project.run("destroy", "--yes")

    assert project.resources() == []
    assert live_ids(clean_emulator, tenant_id) == kept


@pytest.mark.parametrize("parallel", [["--parallel", "1"], []], ids=["parallel-1", "default"])
def test_twenty_tokens_are_created_and_none_is_revoked(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str, parallel: list[str]
) -> None:
    project = make_project(
        """
        import pulumi
        from localskills_pulumi import ScimToken

        tenant = pulumi.Config().require("tenant")
        for n in range(20):
            ScimToken(f"token-{n}", tenant_id=tenant, name=f"token {n}", expires_in_days=30)
        """
    )
    project.run("config", "set", "tenant", tenant_id)

    project.up(*parallel)

    assert len(state_ids(project)) == 20
    assert live_ids(clean_emulator, tenant_id) == state_ids(project)
    assert methods(clean_emulator, tenant_id) == ["POST"] * 20


def test_a_replacement_the_plan_makes_by_itself_is_a_counted_warning_naming_why(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    (token_id,) = state_ids(project)
    assert clean_emulator.delete_token(tenant_id, token_id) == 200

    preview = project.run("preview")

    text = output(preview)
    assert f"SCIM token {tenant_id}/{token_id} was revoked outside Pulumi: replacing it." in text
    assert "warning: localskills-pulumi: SCIM token" in text  # a warning the engine counts
    assert "+-1 to replace" in text


def test_an_unlistable_tenant_is_a_warning_and_plans_nothing(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    project.run("config", "set", "localskills:maxRetries", "0")
    clean_emulator.add_faults(
        [{"method": "GET", "path_prefix": f"/api/tenants/{tenant_id}/", "action": "status",
          "status": 503, "times": 10}]
    )  # fmt: skip

    preview = project.run("preview")

    assert "could not list the SCIM tokens of tenant" in output(preview)
    assert "warning: localskills-pulumi: could not list" in output(preview)
    assert "2 unchanged" in output(preview)


def test_a_changed_rotate_before_days_updates_in_place_with_no_api_call(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(
        """
        import pulumi
        from localskills_pulumi import ScimToken

        config = pulumi.Config()
        ScimToken("okta", tenant_id=config.require("tenant"), name="Okta", expires_in_days=30,
                  rotate_before_days=config.require_int("rotate"))
        """
    )
    project.run("config", "set", "tenant", tenant_id)
    project.run("config", "set", "rotate", "14")
    project.up()
    kept = state_ids(project)
    project.run("config", "set", "rotate", "7")
    clean_emulator.clear_requests()

    preview = project.run("preview")
    project.up()

    assert "~ 1 to update" in output(preview)
    assert methods(clean_emulator, tenant_id) == []
    assert state_ids(project) == kept == live_ids(clean_emulator, tenant_id)
    (resource,) = project.resources()
    assert resource["outputs"]["rotate_before_days"] == 7
    assert resource["inputs"]["rotate_before_days"] == 7
    assert "ciphertext" in resource["outputs"]["token_value"]


def test_refresh_and_destroy_use_the_last_ups_api_token_not_the_one_now_in_config(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = deployed(make_project, tenant_id)
    kept = state_ids(project)
    refused = "lsk_" + "f" * 64  # a token the emulator does not know
    project.run("config", "set", "--secret", "localskills:apiToken", refused)

    project.run("refresh", "--yes", "--skip-preview")
    assert state_ids(project) == kept
    project.run("destroy", "--yes", "--skip-preview")

    assert live_ids(clean_emulator, tenant_id) == set()


def test_an_unreachable_base_url_fails_the_up_naming_where_the_url_came_from(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(PROGRAM.format(options=""))
    project.run("config", "set", "tenant", tenant_id)
    project.run("config", "set", "localskills:baseUrl", "http://127.0.0.1:9")
    project.run("config", "set", "localskills:maxRetries", "0")

    failed = project.up(check=False)

    assert failed.returncode != 0
    assert "cannot reach http://127.0.0.1:9" in output(failed)
    assert "The base URL is from stack config localskills:baseUrl: check it" in output(failed)
    assert live_ids(clean_emulator, tenant_id) == set() == state_ids(project)
