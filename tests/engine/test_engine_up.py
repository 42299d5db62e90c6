"""`pulumi up`, `preview` and `destroy` through the real CLI, against the emulator."""

from __future__ import annotations

from localskills_pulumi.testing.emulator import Emulator
from tests.engine.cli import output, state_ids, tenant_requests
from tests.engine.conftest import MakeProject
from tests.helpers import live_ids

ONE_TOKEN = """
import pulumi
from localskills_pulumi import ScimToken

config = pulumi.Config()
token = ScimToken("okta", tenant_id=config.require("tenant"), name=config.get("name") or "Okta",
                  expires_in_days=30)
pulumi.export("token_id", token.token_id)
pulumi.export("token_value", token.token_value)
"""


def test_up_creates_one_token_and_a_second_up_sends_no_post(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(ONE_TOKEN)
    project.run("config", "set", "tenant", tenant_id)

    first = project.up()
    assert "2 created" in output(first)  # the stack and the token
    assert live_ids(clean_emulator, tenant_id) == state_ids(project)
    assert len(state_ids(project)) == 1

    clean_emulator.clear_requests()
    second = project.run("up", "--yes")
    assert "2 unchanged" in output(second)
    assert [m for m, _ in tenant_requests(clean_emulator, tenant_id) if m == "POST"] == []


def test_preview_with_an_unknown_input_plans_both_tokens_and_sends_no_post(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(
        """
        import pulumi
        from localskills_pulumi import ScimToken

        tenant = pulumi.Config().require("tenant")
        first = ScimToken("first", tenant_id=tenant, name="first")
        ScimToken("second", tenant_id=tenant, name=first.token_id.apply(lambda i: f"after {i}"))
        """
    )
    project.run("config", "set", "tenant", tenant_id)

    preview = project.run("preview")

    assert "+ 3 to create" in output(preview)
    assert [m for m, _ in tenant_requests(clean_emulator, tenant_id) if m == "POST"] == []
    assert live_ids(clean_emulator, tenant_id) == set()


def test_destroy_revokes_every_token(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(ONE_TOKEN)
    project.run("config", "set", "tenant", tenant_id)
    project.up()

    project.run("destroy", "--yes")

    assert live_ids(clean_emulator, tenant_id) == set()
    assert project.resources() == []


def test_a_misspelt_config_key_fails_the_preview_naming_the_right_one_before_any_request(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(ONE_TOKEN)
    project.run("config", "set", "tenant", tenant_id)
    project.run("config", "set", "localskills:baseURL", clean_emulator.base_url)

    for command in (["preview"], ["up", "--yes", "--skip-preview"]):
        done = project.run(*command, check=False)
        assert done.returncode != 0
        assert "unknown stack config key localskills:baseURL" in output(done)
        assert "did you mean localskills:baseUrl?" in output(done)
    assert tenant_requests(clean_emulator, tenant_id) == []


def test_an_unknown_localskills_environment_variable_is_a_warning(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(ONE_TOKEN)
    project.run("config", "set", "tenant", tenant_id)

    done = project.run("up", "--yes", env={"LOCALSKILLS_BASEURL": "http://127.0.0.1:1"})

    assert "LOCALSKILLS_BASEURL is not one localskills-pulumi reads" in output(done)
    assert "did you mean LOCALSKILLS_BASE_URL?" in output(done)
    assert len(live_ids(clean_emulator, tenant_id)) == 1


def test_a_provider_error_shows_its_message_without_the_frames_under_the_provider(
    make_project: MakeProject, clean_emulator: Emulator
) -> None:
    project = make_project(ONE_TOKEN)
    project.run("config", "set", "tenant", "no-such-team")

    done = project.up(check=False)

    text = output(done)
    assert done.returncode != 0
    assert "tenant 'no-such-team'" in text
    for frame in ("client.py", "answers.py", "requests/", "urllib3/"):
        assert frame not in text


def test_a_preview_without_an_api_token_warns_naming_both_ways_to_set_it(
    make_project: MakeProject, clean_emulator: Emulator, tenant_id: str
) -> None:
    project = make_project(ONE_TOKEN)
    project.run("config", "set", "tenant", tenant_id)
    project.run("config", "rm", "localskills:apiToken")

    preview = project.run("preview")

    text = output(preview)
    assert "warning: localskills-pulumi:" in text
    assert "pulumi config set --secret localskills:apiToken" in text
    assert "LOCALSKILLS_API_TOKEN" in text
    diagnostics = text.split("Diagnostics:")[1]  # each warning once, as the CLI lists them
    assert diagnostics.count("Nothing can be issued, read or revoked without it.") == 1
