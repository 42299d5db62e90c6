"""Each example README's "Run it without the Pulumi CLI" commands, run as written (from the
repository's root, with this test run's virtualenv and a scratch ``.demo``)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from localskills_pulumi.testing.emulator import DEMO_TENANT_ID, Emulator
from tests import background
from tests.examples.support import EXAMPLES, ROOT

SECTION = "## Run it without the Pulumi CLI"
BACKGROUND_SECONDS = 20  # see tests/background.py
BACKGROUND_FIXTURE = "runs"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "README.md").is_file())


def offline_commands(example: str) -> str:
    """The first ``sh`` block of the example README's offline section."""
    text = (EXAMPLES / example / "README.md").read_text(encoding="utf-8")
    assert SECTION in text, f"{example}/README.md has no {SECTION!r} section"
    found = re.search(r"```sh\n(.*?)```", text[text.index(SECTION) :], re.DOTALL)
    assert found, f"{example}/README.md: no sh block under {SECTION!r}"
    return found.group(1)


@dataclass
class ReadmeRun:
    """An example README's offline commands, run in a scratch ``.demo``, and what they left."""

    stdout: str
    output: str
    returncode: int
    live_token_ids: list[str]
    states: dict[str, dict[str, Any]]


def run_readme(example: str, demo_dir: Path) -> ReadmeRun:
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
    live: list[str] = []
    if (demo_dir / "emulator.db").exists():
        with Emulator(db=demo_dir / "emulator.db") as emulator:
            live = [t["id"] for t in emulator.list_tokens(DEMO_TENANT_ID)]
    states = {
        path.parent.name: json.loads(path.read_text(encoding="utf-8"))
        for path in demo_dir.glob("stacks/*/dev.json")
    }
    return ReadmeRun(done.stdout, done.stdout + done.stderr, done.returncode, live, states)


def prepare_in_background() -> dict[str, ReadmeRun]:
    """Every example's commands, one after the other, each with a scratch ``.demo`` (and
    emulators of their own). Started when collection ends (tests/background.py), so they run
    while the rest of the suite does."""
    with tempfile.TemporaryDirectory(prefix="examples-offline-") as scratch:
        return {
            example: run_readme(example, Path(scratch) / example / ".demo")
            for example in EXAMPLE_NAMES
        }


@pytest.fixture(scope="module")
def runs() -> dict[str, ReadmeRun]:
    done: dict[str, ReadmeRun] = background.result(__name__, prepare_in_background, timeout=900)
    return done


def succeeded(runs: dict[str, ReadmeRun], example: str) -> ReadmeRun:
    run = runs[example]
    assert run.returncode == 0, run.output
    assert "lsk_scim_" not in run.output  # secrets stay masked
    return run


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


def test_rotation_runs_offline(runs: dict[str, ReadmeRun]) -> None:
    run = succeeded(runs, "rotation")
    assert "created            pulumi-python:dynamic/localskills:ScimToken scim-token" in run.stdout
    shown = outputs(run.stdout)
    assert shown["scim_token"] == "[secret]"
    assert set(shown) == {
        "scim_token",
        "scim_token_id",
        "scim_token_expires_at",
        "scim_token_rotates_after",
    }
    assert run.live_token_ids == [json.loads(shown["scim_token_id"])]


def test_okta_connection_runs_offline_with_okta_simulated(runs: dict[str, ReadmeRun]) -> None:
    run = succeeded(runs, "okta-connection")
    assert "created            pulumi-python:dynamic/localskills:ScimToken okta-scim-token" in (
        run.stdout
    )
    assert "simulated          okta:app/connection:Connection localskills-provisioning" in (
        run.stdout
    )
    shown = outputs(run.stdout)
    # The simulated connection has no status: only its inputs stand for its state.
    assert set(shown) == {"scim_token_id", "scim_token_expires_at"}
    assert run.live_token_ids == [json.loads(shown["scim_token_id"])]


def test_stack_reference_reads_the_root_stack_run_before_it(runs: dict[str, ReadmeRun]) -> None:
    run = succeeded(runs, "stack-reference")
    root_outputs, own_outputs = run.stdout.split("project localskills-okta-from-stack")
    assert "simulated          okta:app/connection:Connection localskills-provisioning" in (
        own_outputs
    )
    assert outputs(own_outputs)["scim_token_id"] == outputs(root_outputs)["scim_token_id"]


def test_import_adopts_the_root_stacks_token_and_issues_none(runs: dict[str, ReadmeRun]) -> None:
    run = succeeded(runs, "import")
    root_outputs, own_outputs = run.stdout.split("project localskills-import")
    # Shown as a create, as `pulumi up` shows it: ScimToken passes import_ to its provider.
    assert "created            pulumi-python:dynamic/localskills:ScimToken scim-token" in (
        own_outputs
    )
    token_id = json.loads(outputs(root_outputs)["scim_token_id"])
    assert json.loads(outputs(own_outputs)["scim_token_id"]) == token_id
    assert run.live_token_ids == [token_id]
    [resource] = run.states["localskills-import"]["resources"]
    assert resource["id"] == f"{DEMO_TENANT_ID}/{token_id}"


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_every_example_readme_has_an_offline_command(example: str) -> None:
    assert "bash scripts/offline.sh up examples/" + example in offline_commands(example)


def test_the_runner_reads_secrets_in_the_sdks_wire_form() -> None:
    spec = importlib.util.spec_from_file_location("offline", ROOT / "scripts" / "offline.py")
    assert spec is not None and spec.loader is not None
    offline = importlib.util.module_from_spec(spec)
    sys.modules["offline"] = offline  # its dataclasses look their module up
    try:
        spec.loader.exec_module(offline)
    finally:
        del sys.modules["offline"]
    wrapped = rpc.wrap_rpc_secret({"token": "x"})
    assert offline.is_secret(wrapped) and offline.unwrap([wrapped]) == [{"token": "x"}]
    assert offline.shown({"a": wrapped}) == "[secret]"
