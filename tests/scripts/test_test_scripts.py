"""scripts/test.sh and scripts/test-repeat.sh, run as a developer (and CI) runs them, with this
test run's virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAILING_TEST = """
def test_passes():
    pass


def test_fails():
    assert 1 + 1 == 3, "arithmetic is broken\\nsecond line"


def test_fails_in_setup(missing_fixture):
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
    done = script(
        "scripts/test.sh", "tests/unit", "-k", "no_test_has_this_name", "-p", "no:cacheprovider"
    )
    assert done.returncode == 1
    assert "pytest collected no tests (exit status 5)" in done.stderr


def test_repeat_reports_each_run_and_a_summary(tmp_path: Path) -> None:
    done = script("scripts/test-repeat.sh", "2", "tests/unit/test_credentials.py")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("run 1/2: passed; 7 passed;")
    assert lines[1].startswith("run 2/2: passed; 7 passed;")
    assert lines[2] == (
        "summary: 2 runs, 2 passed, 0 failed (0 failures); longest streak of passing runs: 2"
    )


def test_repeat_names_each_failed_test_with_its_first_error_line(tmp_path: Path) -> None:
    tests = tmp_path / "test_sample.py"
    tests.write_text(FAILING_TEST, encoding="utf-8")
    done = script("scripts/test-repeat.sh", "1", str(tests))
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("run 1/1: FAILED (exit 1); 1 errors, 1 failed, 1 passed;")
    failures = sorted(line.strip() for line in lines[1:3])
    assert failures[0].endswith(
        "test_sample.py::test_fails [call]: AssertionError: arithmetic is broken"
    )
    assert "test_sample.py::test_fails_in_setup [setup]: " in failures[1]
    assert "fixture 'missing_fixture' not found" in failures[1]
    assert lines[3].startswith("summary: 1 runs, 0 passed, 1 failed (2 failures)")


def test_repeat_counts_a_run_without_tests_as_failed() -> None:
    done = script("scripts/test-repeat.sh", "1", "tests/unit", "-k", "no_test_has_this_name")
    assert done.returncode == 1
    assert "run 1/1: FAILED (exit 5)" in done.stdout
    assert "(session) [collect]: no tests ran" in done.stdout
