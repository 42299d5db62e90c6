"""The README's demo command, run as a user runs it (with this test run's virtualenv)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from localskills_pulumi.testing.emulator import DEMO_TENANT_ID, Emulator
from tests import background

ROOT = Path(__file__).resolve().parents[2]
BACKGROUND_SECONDS = 10  # see tests/background.py
BACKGROUND_FIXTURE = "two_runs"
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


@dataclass
class TwoRuns:
    """The demo run twice in one demo directory, and what was left behind."""

    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    live_token_ids: list[str]
    state_mode: int
    demo_dir_mode: int


def prepare_in_background() -> TwoRuns | None:
    """Started when collection ends (tests/background.py): two demos, each with an emulator of
    its own, in a scratch directory, while the rest of the suite runs."""
    if shutil.which("pulumi") is not None:
        return None
    with tempfile.TemporaryDirectory(prefix="demo-") as scratch:
        demo_dir = Path(scratch) / ".demo"
        first, second = demo(demo_dir), demo(demo_dir)
        with Emulator(db=demo_dir / "emulator.db") as emulator:
            live = [t["id"] for t in emulator.list_tokens(DEMO_TENANT_ID)]
        state = demo_dir / "stacks" / "localskills-scim" / "demo.json"
        return TwoRuns(
            first,
            second,
            live,
            stat.S_IMODE(state.stat().st_mode),
            stat.S_IMODE(demo_dir.stat().st_mode),
        )


@pytest.fixture(scope="module")
def two_runs() -> TwoRuns:
    runs: TwoRuns | None = background.result(__name__, prepare_in_background, timeout=600)
    assert runs is not None
    return runs


@no_cli_only
def test_demo_issues_a_masked_token_that_opens_the_scim_endpoint(two_runs: TwoRuns) -> None:
    output = two_runs.first.stdout + two_runs.first.stderr
    assert "https://www.pulumi.com/docs/install/" in output
    assert "created            pulumi-python:dynamic/localskills:ScimToken scim-token" in output
    assert "scim_token               [secret]" in output
    assert "HTTP 200" in output
    assert "lsk_scim_" not in output


@no_cli_only
def test_the_outputs_block_goes_to_stdout(two_runs: TwoRuns) -> None:
    for run in (two_runs.first, two_runs.second):
        assert "    Outputs:\n        scim_token               [secret]\n" in run.stdout
        assert "scim_token_id" in run.stdout
        assert "Outputs:" not in run.stderr


@no_cli_only
def test_a_second_run_changes_nothing_and_says_so(two_runs: TwoRuns) -> None:
    first, second = two_runs.first.stdout, two_runs.second.stdout
    assert "unchanged          pulumi-python:dynamic/localskills:ScimToken scim-token" in second
    assert "No changes: nothing was issued, replaced or revoked." in second
    assert "No changes" not in first
    # The same token as before, still live, and the only one: the emulator's state is kept in
    # the demo directory too.
    token_id = next(
        line.split()[-1].strip('"')
        for line in first.splitlines()
        if line.strip().startswith("scim_token_id")
    )
    assert f'scim_token_id            "{token_id}"' in second
    assert two_runs.live_token_ids == [token_id]
    assert "HTTP 200" in second


@no_cli_only
def test_the_stack_state_is_readable_by_its_owner_only(two_runs: TwoRuns) -> None:
    assert two_runs.state_mode == 0o600
    assert two_runs.demo_dir_mode == 0o700
