"""The README's demo command, run as a user runs it (with this test run's virtualenv)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("pulumi") is not None, reason="exercises the no-CLI path")
def test_demo_issues_a_masked_token_that_opens_the_scim_endpoint(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "VENV": str(Path(sys.executable).parent.parent),
        "DEMO_DIR": str(tmp_path / "demo"),
    }
    done = subprocess.run(
        ["bash", "scripts/demo.sh"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "https://www.pulumi.com/docs/install/" in output
    assert "scim_token               [secret]" in output
    assert "HTTP 200" in output
    assert "lsk_scim_" not in output
