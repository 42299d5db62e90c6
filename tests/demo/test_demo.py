"""The README's demo command, run as a user runs it (with this test run's virtualenv)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from localskills_pulumi.testing.emulator import DEMO_TENANT_ID, Emulator

ROOT = Path(__file__).resolve().parents[2]
no_cli_only = pytest.mark.skipif(
    shutil.which("pulumi") is not None, reason="exercises the no-CLI path"
)


def demo(demo_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VENV": sys.prefix, "DEMO_DIR": str(demo_dir)}
    done = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def two_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, list[subprocess.CompletedProcess[str]]]:
    """The demo, run twice in one demo directory."""
    demo_dir = tmp_path_factory.mktemp("demo") / ".demo"
    return demo_dir, [demo(demo_dir), demo(demo_dir)]


@no_cli_only
def test_demo_issues_a_masked_token_that_opens_the_scim_endpoint(
    two_runs: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    _, (first, _) = two_runs
    output = first.stdout + first.stderr
    assert "https://www.pulumi.com/docs/install/" in output
    assert "created            pulumi-python:dynamic/localskills:ScimToken scim-token" in output
    assert "scim_token               [secret]" in output
    assert "HTTP 200" in output
    assert "lsk_scim_" not in output


@no_cli_only
def test_the_outputs_block_goes_to_stdout(
    two_runs: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    for run in two_runs[1]:
        assert "    Outputs:\n        scim_token               [secret]\n" in run.stdout
        assert "scim_token_id" in run.stdout
        assert "Outputs:" not in run.stderr


@no_cli_only
def test_a_second_run_changes_nothing_and_says_so(
    two_runs: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    demo_dir, (first, second) = two_runs
    assert "unchanged          pulumi-python:dynamic/localskills:ScimToken scim-token" in (
        second.stdout
    )
    assert "No changes: nothing was issued, replaced or revoked." in second.stdout
    assert "No changes" not in first.stdout
    # The same token as before, still live, and the only one: the emulator's state is kept in
    # the demo directory too.
    token_id = next(
        line.split()[-1].strip('"')
        for line in first.stdout.splitlines()
        if line.strip().startswith("scim_token_id")
    )
    assert f'scim_token_id            "{token_id}"' in second.stdout
    with Emulator(db=demo_dir / "emulator.db") as emulator:
        assert [t["id"] for t in emulator.list_tokens(DEMO_TENANT_ID)] == [token_id]
    assert "HTTP 200" in second.stdout


@no_cli_only
def test_the_stack_state_is_readable_by_its_owner_only(
    two_runs: tuple[Path, list[subprocess.CompletedProcess[str]]],
) -> None:
    demo_dir, _ = two_runs
    state = demo_dir / "stacks" / "localskills-scim" / "demo.json"
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(demo_dir.stat().st_mode) == 0o700
