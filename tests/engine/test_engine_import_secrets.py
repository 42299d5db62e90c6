"""Import (`import_`, `pulumi import --file`, plain `pulumi import`) and secrets through the real
CLI."""

from __future__ import annotations

import json
import subprocess
import sys

from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import output, state_ids, tenant_requests
from tests.engine.conftest import MakeProject
from tests.helpers import live_ids

DECLARED = """
import pulumi
from localskills_pulumi import ScimToken

config = pulumi.Config()
token = ScimToken("okta", tenant_id=config.require("tenant"), name="Adopted",
                  expires_in_days=30{import_})
pulumi.export("token_value", token.token_value)
"""


ISSUED = """
import pulumi
from localskills_pulumi import ScimToken

token = ScimToken("okta", tenant_id=pulumi.Config().require("tenant"), name="Okta")
pulumi.export("token_value", token.token_value)
"""


def existing_token(emulator: Emulator, tenant_id: str) -> str:
    token_id: str = emulator.create_token(tenant_id, "Adopted", 30)["id"]
    return token_id


def posts(emulator: Emulator, tenant_id: str) -> int:
    return sum(1 for m, _ in tenant_requests(emulator, tenant_id) if m == "POST")


def test_import_option_adopts_the_token_without_a_post_and_the_next_up_changes_nothing(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    token_id = existing_token(clean_emulator, tenant_id)
    import_ = f', opts=pulumi.ResourceOptions(import_="{tenant_id}/{token_id}")'
    project = make_project(DECLARED.format(import_=import_))
    project.run("config", "set", "tenant", tenant_id)
    clean_emulator.clear_requests()

    project.up()

    assert state_ids(project) == {token_id}
    assert posts(clean_emulator, tenant_id) == 0
    assert project.outputs(show_secrets=True).get("token_value") is None
    project.write_program(DECLARED.format(import_=""))
    preview = project.run("preview")
    assert "2 unchanged" in output(preview)
    assert live_ids(clean_emulator, tenant_id) == {token_id}


def test_an_adoption_is_a_warning_at_plan_time_saying_no_token_is_issued_and_no_value_comes(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    token_id = existing_token(clean_emulator, tenant_id)
    import_ = f', opts=pulumi.ResourceOptions(import_="{tenant_id}/{token_id}")'
    project = make_project(DECLARED.format(import_=import_))
    project.run("config", "set", "tenant", tenant_id)

    preview = project.run("preview")

    text = output(preview)
    assert f"warning: localskills-pulumi: SCIM token {tenant_id}/{token_id} is adopted" in text
    assert "token_value stays unset" in text and "pulumi up --replace" in text
    assert live_ids(clean_emulator, tenant_id) == {token_id}


def test_import_file_then_pulumi_import_then_up_plans_no_change(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    token_id = existing_token(clean_emulator, tenant_id)
    project = make_project(DECLARED.format(import_=""))
    project.run("config", "set", "tenant", tenant_id)
    made = subprocess.run(
        [sys.executable, "-m", "localskills_pulumi", "import-file", f"{tenant_id}/{token_id}",
         "--resource-name", "okta"],
        env={**project.env, "LOCALSKILLS_API_TOKEN": clean_emulator.api_token,
             "LOCALSKILLS_BASE_URL": clean_emulator.base_url},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    (project.folder / "scim-tokens.json").write_text(made.stdout, encoding="utf-8")

    project.run(
        "import", "--file", "scim-tokens.json", "--generate-code=false", "--protect=false", "--yes"
    )

    assert state_ids(project) == {token_id}
    clean_emulator.clear_requests()
    preview = project.run("preview")
    assert "2 unchanged" in output(preview)
    assert posts(clean_emulator, tenant_id) == 0


def test_plain_pulumi_import_of_a_dynamic_resource_fails_in_the_sdk_host(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    token_id = existing_token(clean_emulator, tenant_id)
    project = make_project(DECLARED.format(import_=""))
    project.run("config", "set", "tenant", tenant_id)

    done = project.run(
        "import", SCIM_TOKEN_TYPE, "okta", f"{tenant_id}/{token_id}", "--yes", check=False
    )

    assert done.returncode != 0
    assert "KeyError: '__provider'" in output(done)
    assert project.resources() == []


def test_token_value_is_masked_shown_on_request_and_ciphertext_in_the_checkpoint(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(ISSUED)
    project.run("config", "set", "tenant", tenant_id)
    up = project.up()

    value = project.outputs(show_secrets=True)["token_value"]
    assert project.outputs()["token_value"] == "[secret]"
    assert clean_emulator.scim_get_users(value).status_code == 200
    checkpoint = project.checkpoint_text()
    assert value not in checkpoint and value not in output(up)
    assert clean_emulator.api_token not in checkpoint
    (resource,) = project.resources()
    assert resource["outputs"]["token_value"]["4dabf18193072939515e22adb298388d"] == (
        "1b47061264138c4ac30d75fd1eb44270"
    )
    assert "ciphertext" in resource["outputs"]["token_value"]


def test_a_stack_reference_reads_token_value_as_a_secret(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    producer = make_project(
        ISSUED,
        name="producer",
    )
    producer.run("config", "set", "tenant", tenant_id)
    producer.up()
    consumer = make_project(
        """
        import pulumi

        ref = pulumi.StackReference("organization/producer/dev")
        value = ref.get_output("token_value")
        pulumi.export("is_secret", pulumi.Output.is_secret(value))
        pulumi.export("length", value.apply(len))
        """,
        name="consumer",
        folder="consumer",
    )
    consumer.env = {**consumer.env, "PULUMI_BACKEND_URL": producer.env["PULUMI_BACKEND_URL"]}
    consumer.run("stack", "init", "dev")

    consumer.up()

    outputs = json.loads(consumer.run("stack", "output", "--json", "--show-secrets").stdout)
    assert outputs["is_secret"] is True
    assert outputs["length"] == len(producer.outputs(show_secrets=True)["token_value"])
    assert consumer.outputs()["length"] == "[secret]"
