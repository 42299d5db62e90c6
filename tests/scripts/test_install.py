"""Each install line of the README's Install section, run as written (the checkout's path
substituted) into a fresh virtualenv, with pip reading only a stand-in wheelhouse of this run's
packages (`wheelhouse.py`); then a user's program is type-checked against what was installed,
from a folder outside the checkout, as an editor would."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts.test_two_commands import offline_pip

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "/path/to/localskills-pulumi"
PROGRAM = """\
from localskills_pulumi import ScimTokenArgs

ScimTokenArgs(tenant_id="engineering", name="Okta", expires_in_days="365")
"""
MISTYPED = 'Argument "expires_in_days" to "ScimTokenArgs" has incompatible type "str"'


def install_lines() -> list[str]:
    """The commands of the first ``sh`` block under ``## Install``."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line for line in block.group(1).splitlines() if line.strip()]


def run(
    args: list[str], cwd: Path, env: dict[str, str], *, status: int = 0
) -> subprocess.CompletedProcess[str]:
    """Run ``args``; the exit status must be ``status``."""
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == status, f"{shlex.join(args)}:\n{done.stdout}{done.stderr}"
    return done


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return offline_pip(tmp_path_factory.mktemp("wheelhouse"))


def checkout(base: Path) -> Path:
    """What a user's checkout holds for an install: the package and its build files."""
    copy = base / "localskills-pulumi"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, copy / name)
    shutil.copytree(
        ROOT / "localskills_pulumi",
        copy / "localskills_pulumi",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return copy


def test_the_readme_gives_a_plain_an_editable_and_a_wheel_install_from_a_checkout() -> None:
    commands = [shlex.split(line)[:2] for line in install_lines()]
    assert commands == [["pip", "install"], ["pip", "install"], ["pip", "wheel"]]
    assert all(PLACEHOLDER in line for line in install_lines())


@pytest.mark.parametrize("line", install_lines())
def test_an_install_line_works_and_a_type_checker_sees_the_package(
    line: str, tmp_path: Path, env: dict[str, str]
) -> None:
    source = checkout(tmp_path)
    run([sys.executable, "-m", "venv", str(tmp_path / "venv")], tmp_path, env)
    python = str(tmp_path / "venv" / "bin" / "python")
    args = shlex.split(line.replace(PLACEHOLDER, str(source)))
    run([python, "-m", *args], tmp_path, env)
    if args[:2] == ["pip", "wheel"]:
        [wheel] = (tmp_path / "dist").glob("localskills_pulumi-*-py3-none-any.whl")
        run([python, "-m", "pip", "install", str(wheel)], tmp_path, env)
    run([python, "-m", "pip", "install", "mypy"], tmp_path, env)
    user = tmp_path / "user-stack"
    user.mkdir()
    (user / "__main__.py").write_text(PROGRAM, encoding="utf-8")
    # The one error is the program's own mistyped argument: mypy found the installed package
    # and read its types (a package it cannot find is an import-not-found error instead).
    done = run(
        [python, "-m", "mypy", "--strict", "--no-incremental", "__main__.py"], user, env, status=1
    )
    errors = [row for row in done.stdout.splitlines() if ": error:" in row]
    assert len(errors) == 1 and MISTYPED in errors[0], done.stdout
