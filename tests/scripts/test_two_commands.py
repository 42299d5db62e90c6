"""The README's two commands, `bash scripts/demo.sh` and `bash scripts/test.sh`, on a fresh
clone, in either order, and each again after the other.

Each order runs in a throwaway copy of the project with no virtualenv, as a fresh clone has.
The scripts create `.venv` and install into it with pip as they always do, but from a local
wheelhouse (`wheelhouse.py`) that stands for the packages of this test run's own virtualenv,
with no package index (`PIP_NO_INDEX`): the test needs no network and copies no package. What
it proves: each script installs what it needs into the shared virtualenv when its requirement
file is not installed there yet (a package the copy's `.venv` did not install cannot be
imported), and the other script's run leaves it working. What it does not: that the package
index serves the requirement files (CI's fresh virtualenv does that).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.scripts import wheelhouse

ROOT = Path(__file__).resolve().parents[2]
# A small test file of the copy: proves pytest and the package are installed and importable.
SOME_TESTS = "tests/unit/test_credentials.py"
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv*",
    ".demo",
    ".benchmarks",
    "__pycache__",
    "*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "build",
    "dist",
)


@pytest.fixture(scope="module")
def offline_pip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment for the scripts: pip reads only the stand-in wheelhouse."""
    base = tmp_path_factory.mktemp("wheelhouse")
    wheelhouse.build(base / "wheels", base / "links")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PIP_") and k not in ("VENV", "DEMO_DIR", "VIRTUAL_ENV", "PYTHONPATH")
    }
    env.update(
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(base / "wheels"),
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def fresh_clone(path: Path) -> Path:
    """A copy of the project as a fresh clone has it: no virtualenv, no .demo."""
    shutil.copytree(ROOT, path, ignore=NOT_COPIED, symlinks=True)
    return path


@dataclass
class Step:
    """One command of a sequence, and what it printed."""

    command: str
    returncode: int
    output: str

    @property
    def installs(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.startswith("==> installing")]


DEMO = ("scripts/demo.sh",)
TESTS = ("scripts/test.sh", SOME_TESTS, "-p", "no:cacheprovider")
ENSURE_DEV = ("scripts/venv.sh", "requirements-dev.txt")  # what CI runs first


def run_sequence(
    clone: Path, env: dict[str, str], commands: list[tuple[str, ...] | Callable[[Path], None]]
) -> list[Step]:
    """Run the commands in order in ``clone`` (a callable changes the clone), up to the first
    that fails."""
    steps: list[Step] = []
    for command in commands:
        if callable(command):
            command(clone)
            continue
        done = subprocess.run(
            ["bash", *command],
            cwd=clone,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        steps.append(Step(" ".join(command), done.returncode, done.stdout + done.stderr))
        if done.returncode != 0:
            break
    return steps


def change_requirements(clone: Path) -> None:
    with (clone / "requirements.txt").open("a", encoding="utf-8") as requirements:
        requirements.write("# changed\n")


@pytest.fixture(scope="module")
def sequences(
    offline_pip: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Path, list[Step]]]:
    """Both orders, each in a fresh clone, run at the same time (most of their time is spent
    creating a virtualenv and starting processes, one core each)."""
    base = tmp_path_factory.mktemp("clones")
    elsewhere = base / "elsewhere-venv"
    plans: dict[str, tuple[Path, dict[str, str], list[Any]]] = {
        "demo first": (fresh_clone(base / "demo-first"), offline_pip, [DEMO, TESTS, DEMO]),
        "tests first": (
            fresh_clone(base / "tests-first"),
            {**offline_pip, "VENV": str(elsewhere)},
            [TESTS, DEMO, TESTS, change_requirements, ENSURE_DEV],
        ),
    }
    with ThreadPoolExecutor(len(plans)) as pool:
        futures = {
            name: (clone, pool.submit(run_sequence, clone, env, commands))
            for name, (clone, env, commands) in plans.items()
        }
        return {name: (clone, future.result()) for name, (clone, future) in futures.items()}


def succeeded(steps: list[Step], count: int) -> list[Step]:
    for step in steps:
        assert step.returncode == 0, f"{step.command} failed:\n{step.output}"
    assert len(steps) == count
    return steps


def test_demo_then_tests_then_demo_again(sequences: dict[str, tuple[Path, list[Step]]]) -> None:
    _, steps = sequences["demo first"]
    demo, tests, demo_again = succeeded(steps, 3)
    assert demo.installs == ["==> installing requirements.txt and localskills-pulumi into .venv"]
    assert "HTTP 200" in demo.output
    # The runtime requirements do not hold pytest: test.sh installs its own.
    assert tests.installs == ["==> installing requirements-dev.txt into .venv"]
    assert " passed" in tests.output
    assert demo_again.installs == []
    assert "No changes" in demo_again.output and "HTTP 200" in demo_again.output


def test_tests_then_demo_then_tests_again_in_the_venv_named_by_VENV(
    sequences: dict[str, tuple[Path, list[Step]]],
) -> None:
    clone, steps = sequences["tests first"]
    tests, demo, tests_again, after_change = succeeded(steps, 4)
    venv = clone.parent / "elsewhere-venv"
    assert tests.installs == [
        f"==> installing requirements-dev.txt and localskills-pulumi into {venv}"
    ]
    # The development requirements include the runtime ones: nothing more to install.
    assert demo.installs == []
    assert "HTTP 200" in demo.output
    assert tests_again.installs == []
    assert not (clone / ".venv").exists()
    # A changed requirement file is installed again (by what CI runs first, too).
    assert after_change.installs == [f"==> installing requirements-dev.txt into {venv}"]
