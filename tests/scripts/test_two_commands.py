"""The README's two commands, `bash scripts/demo.sh` and `bash scripts/test.sh`, on a fresh
clone, in either order: demo, tests, demo again (after a change to requirements.txt); tests,
demo. Run in the background while the
rest of the suite runs (see ``prepare_in_background``).

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
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import background
from tests.scripts import wheelhouse

ROOT = Path(__file__).resolve().parents[2]
BACKGROUND_SECONDS = 60  # see tests/background.py
BACKGROUND_FIXTURE = "sequences"
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


def offline_pip(base: Path) -> dict[str, str]:
    """The environment for the scripts: pip reads only a stand-in wheelhouse built in ``base``."""
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


@dataclass
class Sequence:
    """One order, run in a fresh clone: its steps, and whether the clone got a ``.venv``."""

    steps: list[Step]
    venv: Path
    clone_has_venv: bool


def prepare_in_background() -> dict[str, Sequence]:
    """Both orders, one after the other, each in a fresh clone, in a scratch directory removed
    afterwards. Started when collection ends (tests/background.py): it takes tens of seconds,
    mostly creating virtualenvs and starting processes, and shares nothing with other tests."""
    with tempfile.TemporaryDirectory(prefix="two-commands-") as scratch:
        base = Path(scratch)
        env = offline_pip(base)
        elsewhere = base / "elsewhere-venv"
        plans: dict[str, tuple[Path, dict[str, str], Path, list[Any]]] = {
            "demo first": (
                fresh_clone(base / "demo-first"),
                env,
                base / "demo-first" / ".venv",
                [DEMO, TESTS, change_requirements, DEMO],
            ),
            "tests first": (
                fresh_clone(base / "tests-first"),
                {**env, "VENV": str(elsewhere)},
                elsewhere,
                [TESTS, DEMO],
            ),
        }
        return {
            name: Sequence(
                run_sequence(clone, plan_env, commands), venv, (clone / ".venv").exists()
            )
            for name, (clone, plan_env, venv, commands) in plans.items()
        }


@pytest.fixture(scope="module")
def sequences() -> dict[str, Sequence]:
    done: dict[str, Sequence] = background.result(__name__, prepare_in_background, timeout=1800)
    return done


def succeeded(steps: list[Step], count: int) -> list[Step]:
    for step in steps:
        assert step.returncode == 0, f"{step.command} failed:\n{step.output}"
    assert len(steps) == count
    return steps


def test_demo_then_tests_then_demo_again(sequences: dict[str, Sequence]) -> None:
    order = sequences["demo first"]
    demo, tests, demo_again = succeeded(order.steps, 3)
    assert demo.installs == ["==> installing requirements.txt and localskills-pulumi into .venv"]
    assert "HTTP 200" in demo.output
    # The runtime requirements do not hold pytest: test.sh installs its own.
    assert tests.installs == ["==> installing requirements-dev.txt into .venv"]
    assert " passed" in tests.output
    # requirements.txt changed in between: installed again, and only it.
    assert demo_again.installs == ["==> installing requirements.txt into .venv"]
    assert "No changes" in demo_again.output and "HTTP 200" in demo_again.output


def test_tests_then_demo_in_the_venv_named_by_VENV(sequences: dict[str, Sequence]) -> None:
    order = sequences["tests first"]
    tests, demo = succeeded(order.steps, 2)
    assert tests.installs == [
        f"==> installing requirements-dev.txt and localskills-pulumi into {order.venv}"
    ]
    assert " passed" in tests.output
    # The development requirements include the runtime ones: nothing more to install.
    assert demo.installs == []
    assert "HTTP 200" in demo.output
    assert not order.clone_has_venv
