"""The README's demo command with a Pulumi CLI on PATH: its `pulumi up` branch, for real."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from localskills_pulumi.testing.emulator import DEMO_TENANT_ID, Emulator
from tests.engine.cli import ROOT, cli_environment, output


def demo(demo_dir: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**cli_environment(home), "VENV": sys.prefix, "DEMO_DIR": str(demo_dir)}
    done = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, output(done)
    return done


def test_the_demo_runs_pulumi_up_twice_and_leaves_the_checkout_clean(tmp_path: Path) -> None:
    before = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    demo_dir = tmp_path / ".demo"

    first, second = demo(demo_dir, tmp_path), demo(demo_dir, tmp_path)

    assert "==> pulumi up" in first.stdout
    assert "2 created" in output(first)
    assert "scim_token" in first.stdout and "[secret]" in first.stdout
    assert "HTTP 200" in first.stdout and "HTTP 200" in second.stdout
    assert "2 unchanged" in output(second)
    assert "lsk_scim_" not in output(first) + output(second)
    with Emulator(db=demo_dir / "emulator.db") as emulator:
        assert len(emulator.list_tokens(DEMO_TENANT_ID)) == 1
    after = subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert after == before
