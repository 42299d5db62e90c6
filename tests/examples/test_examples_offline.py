"""Each example README's "Run it without the Pulumi CLI" commands, run as written (from the
repository's root, with this test run's virtualenv and a scratch ``.demo``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from localskills_pulumi.testing.emulator import DEMO_TENANT_ID, Emulator
from tests.examples.support import EXAMPLES, ROOT

SECTION = "## Run it without the Pulumi CLI"


def offline_commands(example: str) -> str:
    """The first ``sh`` block of the example README's offline section."""
    text = (EXAMPLES / example / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"{example}/README.md has no {SECTION!r} section"
    found = re.search(r"```sh\n(.*?)```", text[text.index(SECTION) :], re.DOTALL)
    assert found, f"{example}/README.md: no sh block under {SECTION!r}"
    return found.group(1)


def run_readme(example: str, demo_dir: Path) -> str:
    env = {**os.environ, "VENV": sys.prefix, "DEMO_DIR": str(demo_dir)}
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", offline_commands(example)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "lsk_scim_" not in output  # secrets stay masked
    return done.stdout


def outputs(stdout: str) -> dict[str, str]:
    """The last ``Outputs:`` block printed: name -> shown value."""
    block = stdout[stdout.rindex("    Outputs:\n") :].splitlines()[1:]
    shown = {}
    for line in block:
        if not line.startswith("        "):
            break
        name, value = line.split(maxsplit=1)
        shown[name] = value
    return shown


def live_token_ids(demo_dir: Path) -> list[str]:
    with Emulator(db=demo_dir / "emulator.db") as emulator:
        return [t["id"] for t in emulator.list_tokens(DEMO_TENANT_ID)]


def state(demo_dir: Path, project: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(
        (demo_dir / "stacks" / project / "dev.json").read_text(encoding="utf-8")
    )
    return data


def test_rotation_runs_offline(tmp_path: Path) -> None:
    demo_dir = tmp_path / ".demo"
    first = run_readme("rotation", demo_dir)
    assert "created            pulumi-python:dynamic/localskills:ScimToken scim-token" in first
    shown = outputs(first)
    assert shown["scim_token"] == "[secret]"
    assert set(shown) == {
        "scim_token",
        "scim_token_id",
        "scim_token_expires_at",
        "scim_token_rotates_after",
    }
    assert live_token_ids(demo_dir) == [json.loads(shown["scim_token_id"])]


def test_okta_connection_runs_offline_with_okta_simulated(tmp_path: Path) -> None:
    demo_dir = tmp_path / ".demo"
    stdout = run_readme("okta-connection", demo_dir)
    assert "created            pulumi-python:dynamic/localskills:ScimToken okta-scim-token" in (
        stdout
    )
    assert "simulated          okta:app/connection:Connection localskills-provisioning" in stdout
    shown = outputs(stdout)
    # The simulated connection has no status: only its inputs stand for its state.
    assert set(shown) == {"scim_token_id", "scim_token_expires_at"}
    assert live_token_ids(demo_dir) == [json.loads(shown["scim_token_id"])]


def test_stack_reference_reads_the_root_stack_run_before_it(tmp_path: Path) -> None:
    demo_dir = tmp_path / ".demo"
    stdout = run_readme("stack-reference", demo_dir)
    root_outputs, own_outputs = stdout.split("project localskills-okta-from-stack")
    assert "simulated          okta:app/connection:Connection localskills-provisioning" in (
        own_outputs
    )
    assert outputs(own_outputs)["scim_token_id"] == outputs(root_outputs)["scim_token_id"]


def test_import_adopts_the_root_stacks_token_and_issues_none(tmp_path: Path) -> None:
    demo_dir = tmp_path / ".demo"
    stdout = run_readme("import", demo_dir)
    root_outputs, own_outputs = stdout.split("project localskills-import")
    # Shown as a create, as `pulumi up` shows it: ScimToken passes import_ to its provider.
    assert "created            pulumi-python:dynamic/localskills:ScimToken scim-token" in (
        own_outputs
    )
    token_id = json.loads(outputs(root_outputs)["scim_token_id"])
    assert json.loads(outputs(own_outputs)["scim_token_id"]) == token_id
    assert live_token_ids(demo_dir) == [token_id]
    [resource] = state(demo_dir, "localskills-import")["resources"]  # type: ignore[misc]
    assert resource["id"] == f"{DEMO_TENANT_ID}/{token_id}"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir()))
def test_every_example_readme_has_an_offline_command(example: str) -> None:
    assert "bash scripts/offline.sh up examples/" + example in offline_commands(example)
