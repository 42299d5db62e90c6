"""scripts/test.sh and scripts/test-repeat.sh, run as a developer (and CI) runs them, with this
test run's virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each of these fails on its first run in a directory and passes on the next: flaky, on purpose.
SAMPLE_TESTS = """
from pathlib import Path

import pytest


def first_time(name):
    marker = Path(__file__).with_name(name + ".ran")
    first = not marker.exists()
    marker.touch()
    return first


@pytest.fixture
def resource():
    if first_time("setup"):
        raise RuntimeError("could not set up\\nsecond line")


def test_passes():
    pass


def test_flaky():
    assert not first_time("call"), "arithmetic is broken\\nsecond line"


def test_flaky_setup(resource):
    pass
"""


def script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VENV": sys.prefix}
    return subprocess.run(
        ["bash", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_test_run_that_collects_no_tests_fails_and_says_so() -> None:
    done = script("scripts/test.sh", "tests/unit", "-k", "no_test_has_this_name")
    assert done.returncode == 1
    assert "pytest collected no tests (exit status 5)" in done.stderr


def test_repeat_reports_each_failed_test_with_its_first_error_line_and_a_summary(
    tmp_path: Path,
) -> None:
    tests = tmp_path / "test_sample.py"
    tests.write_text(SAMPLE_TESTS, encoding="utf-8")
    done = script("scripts/test-repeat.sh", "2", str(tests))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("run 1/2: FAILED (exit 1); 1 errors, 1 failed, 1 passed; ")
    failures = sorted(line.strip() for line in lines[1:3])
    assert failures[0].endswith(
        "test_sample.py::test_flaky [call]: AssertionError: arithmetic is broken"
    )
    assert failures[1].endswith(
        "test_sample.py::test_flaky_setup [setup]: RuntimeError: could not set up"
    )
    assert lines[3].startswith("run 2/2: passed; 3 passed; ")
    assert lines[4] == (
        "summary: 2 runs, 1 passed, 1 failed (2 failures); longest streak of passing runs: 1"
    )
    assert lines[5].startswith("logs: ")
