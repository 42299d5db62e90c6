"""examples/rotation: a 90-day token replaced once it comes within 14 days of its expiry."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.records import parse_timestamp
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.wire import UNKNOWN, is_secret, unwrap
from tests.examples.support import EXAMPLES, ExampleStack, tenant_posts

PROJECT = "localskills-rotation"


@pytest.fixture(scope="module")
def module_tenant(emulator: Emulator) -> str:
    return emulator.new_tenant("rotation")


@pytest.fixture
def stack(emulator: Emulator, host: HostPool, module_tenant: str) -> ExampleStack:
    return ExampleStack("rotation", PROJECT, emulator, host, config={"tenantId": module_tenant})


def token_urn(stack: ExampleStack) -> str:
    return stack.urn(SCIM_TOKEN_TYPE, "scim-token")


def expire_in(stack: ExampleStack, days: int) -> None:
    """Let time pass: the token in the state now expires ``days`` days from now."""
    when = datetime.now(timezone.utc) + timedelta(days=days)
    stack.state.resources[token_urn(stack)].outputs["expires_at"] = when.strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_up_issues_a_90_day_token_and_exports_when_it_rotates(
    stack: ExampleStack, emulator: Emulator, module_tenant: str
) -> None:
    result = stack.up()
    assert result.steps == [("create", token_urn(stack))]
    assert set(result.resources) == {token_urn(stack)}
    [live] = [
        t for t in emulator.list_tokens(module_tenant) if t["id"] == result.outputs["scim_token_id"]
    ]
    lifetime = parse_timestamp(live["expiresAt"]) - parse_timestamp(live["createdAt"])
    assert lifetime == timedelta(days=90)
    assert result.outputs["scim_token_expires_at"] == live["expiresAt"]
    rotates_after = parse_timestamp(result.outputs["scim_token_rotates_after"])
    assert rotates_after == parse_timestamp(live["expiresAt"]) - timedelta(days=14)
    assert is_secret(result.outputs["scim_token"])
    assert emulator.scim_get_users(unwrap(result.outputs["scim_token"])).status_code == 200


def test_preview_outside_the_window_shows_no_change(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str
) -> None:
    stack.up()
    expire_in(stack, 20)  # 20 days left: the 14-day window is not open yet
    result = stack.up(preview=True)
    assert result.steps == [("same", token_urn(stack))]


def test_preview_in_the_window_plans_a_replacement_for_expires_at(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str
) -> None:
    first = stack.up()
    expire_in(stack, 10)
    clean_emulator.clear_requests()
    result = stack.up(preview=True)
    assert result.steps == [
        ("replace", token_urn(stack), ("expires_at",)),
        ("delete-replaced", token_urn(stack)),
    ]
    # A preview changes nothing; the new token's value and ID are not known yet.
    assert tenant_posts(clean_emulator, module_tenant) == []
    assert not any(r["method"] == "DELETE" for r in clean_emulator.requests_log())
    assert unwrap(result.outputs["scim_token"]) == UNKNOWN
    old_id = first.outputs["scim_token_id"]
    assert old_id in {t["id"] for t in clean_emulator.list_tokens(module_tenant)}


def test_up_in_the_window_creates_the_new_token_before_revoking_the_old(
    stack: ExampleStack, clean_emulator: Emulator, module_tenant: str
) -> None:
    first = stack.up()
    old_id = first.outputs["scim_token_id"]
    old_token = unwrap(first.outputs["scim_token"])
    expire_in(stack, 10)
    clean_emulator.clear_requests()

    result = stack.up()

    assert result.steps == [
        ("replace", token_urn(stack), ("expires_at",)),
        ("delete-replaced", token_urn(stack)),
    ]
    tenant_calls = [
        (r["method"], r["path"].rsplit("/", 1)[-1])
        for r in clean_emulator.requests_log()
        if r["path"].startswith(f"/api/tenants/{module_tenant}/") and r["method"] != "GET"
    ]
    assert tenant_calls == [("POST", "scim-tokens"), ("DELETE", old_id)]
    new_token = unwrap(result.outputs["scim_token"])
    assert is_secret(result.outputs["scim_token"])
    assert result.outputs["scim_token_id"] != old_id
    assert clean_emulator.scim_get_users(new_token).status_code == 200
    assert clean_emulator.scim_get_users(old_token).status_code == 401
    # The next run finds the new token far from its window: nothing to do.
    assert stack.up().steps == [("same", token_urn(stack))]


def test_a_missing_tenant_id_fails_naming_it(stack: ExampleStack, clean_emulator: Emulator) -> None:
    stack.config = {}
    with pytest.raises(Exception, match=f"{PROJECT}:tenantId"):
        stack.up()
    assert clean_emulator.requests_log() == []


def test_the_readme_schedule_is_a_workflow_that_runs_pulumi_up_weekly_or_more() -> None:
    readme = (EXAMPLES / "rotation" / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md lost its schedule"
    workflow = yaml.safe_load(match.group(1))
    [schedule] = workflow[True]["schedule"]  # YAML 1.1 reads the key `on` as True
    _minute, _hour, day_of_month, month, _day_of_week = schedule["cron"].split()
    # Every week (at least), so a run always falls inside the 14-day window.
    assert day_of_month == month == "*"
    steps = workflow["jobs"]["rotate"]["steps"]
    commands = " ".join(str(step.get("run", "")) + str(step.get("with", "")) for step in steps)
    assert "up" in commands and "examples/rotation" in commands
