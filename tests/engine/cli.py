"""The real Pulumi CLI, run as a user runs it, on a project folder of the test's own.

Offline and hermetic: a file backend and a ``PULUMI_HOME`` in the project's temporary folder,
the passphrase secrets provider, no update check, no plugin download (a plugin the CLI cannot
find fails the command at once). The CLI finds this project's two plugin adapters first on its
PATH (``tools/plugins/``: the dynamic provider's host and the Python language host), then the
test run's virtualenv, whose ``python`` they run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from localskills_pulumi.model import SCIM_TOKEN_TYPE
from localskills_pulumi.testing.emulator import Emulator, subprocess_environment

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "tools" / "plugins"
BUILT_CLI = ROOT / ".tools" / "bin" / "pulumi"
BUILD_COMMAND = "bash scripts/pulumi-cli.sh"

COMMAND_TIMEOUT = 300  # seconds; a hung CLI fails its test instead of the run


def cli_path() -> Path:
    """The CLI the tests run: ``TEST_PULUMI_CLI`` (set by scripts/test.sh), else this
    checkout's build, else a ``pulumi`` on PATH; none of them fails the test with the command
    that builds one (it is never skipped)."""
    named = os.environ.get("TEST_PULUMI_CLI")
    if named:
        return Path(named)
    if BUILT_CLI.is_file():
        return BUILT_CLI
    found = shutil.which("pulumi")
    if found:
        return Path(found)
    pytest.fail(f"no Pulumi CLI: build one with `{BUILD_COMMAND}` (needs Go), or put it on PATH")


def cli_environment(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI run: hermetic, offline, the plugin adapters first on PATH."""
    env = subprocess_environment()
    for key in [k for k in env if k.startswith(("PULUMI_", "LOCALSKILLS_"))]:
        del env[key]
    path = [str(PLUGINS), str(cli_path().parent), str(Path(sys.executable).parent)]
    env.update(
        PATH=os.pathsep.join([*path, env.get("PATH", "")]),
        PULUMI_PYTHON=sys.executable,
        PULUMI_HOME=str(home / "pulumi-home"),
        PULUMI_BACKEND_URL=f"file://{home / 'backend'}",
        PULUMI_CONFIG_PASSPHRASE="engine-tests",
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_SKIP_CONFIRMATIONS="true",
        NO_COLOR="1",
    )
    env.update(extra or {})
    (home / "backend").mkdir(parents=True, exist_ok=True)
    return env


class Project:
    """A Python project folder (``Pulumi.yaml``, ``__main__.py``) with one stack, ``dev``,
    configured for ``emulator``: its API token and base URL are stack config, as a user sets
    them (the token ``--secret``)."""

    def __init__(
        self, folder: Path, emulator: Emulator, program: str, *, name: str = "engine-test"
    ) -> None:
        self.folder = folder
        self.name = name
        self.emulator = emulator
        self.env = cli_environment(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n", encoding="utf-8")
        self.write_program(program)
        self.run("stack", "init", "dev")
        self.run("config", "set", "--secret", "localskills:apiToken", emulator.api_token)
        self.run("config", "set", "localskills:baseUrl", emulator.base_url)

    def write_program(self, program: str) -> None:
        (self.folder / "__main__.py").write_text(textwrap.dedent(program), encoding="utf-8")

    def run(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = COMMAND_TIMEOUT,
    ) -> subprocess.CompletedProcess[str]:
        """``pulumi ARGS`` in the project folder, ended after ``timeout`` seconds; with
        ``check``, a non-zero exit fails the test with what the CLI printed."""
        done = subprocess.run(
            [str(cli_path()), *args],
            cwd=self.folder,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            pytest.fail(f"pulumi {' '.join(args)} exited {done.returncode}:\n{output(done)}")
        return done

    def up(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--yes", "--skip-preview", *args, check=check)

    def checkpoint_text(self) -> str:
        """The stack's checkpoint file, as the file backend wrote it."""
        path = self.folder / "backend" / ".pulumi" / "stacks" / self.name / "dev.json"
        return path.read_text(encoding="utf-8")

    def resources(self) -> list[dict[str, Any]]:
        """The checkpoint's resources of our type (pending deletes included)."""
        deployment = json.loads(self.checkpoint_text())["checkpoint"]["latest"]
        return [r for r in deployment.get("resources") or [] if r["type"] == SCIM_TOKEN_TYPE]

    def outputs(self, *, show_secrets: bool = False) -> dict[str, Any]:
        args = ["stack", "output", "--json", *(["--show-secrets"] if show_secrets else [])]
        parsed: dict[str, Any] = json.loads(self.run(*args).stdout)
        return parsed


def output(done: subprocess.CompletedProcess[str]) -> str:
    """What a CLI run printed, stdout then stderr."""
    return done.stdout + done.stderr


def tenant_requests(emulator: Emulator, tenant_id: str) -> list[tuple[str, str]]:
    """``(method, path)`` of the emulator's logged API requests to one tenant, in order."""
    prefix = f"/api/tenants/{tenant_id}/"
    return [
        (r["method"], r["path"])
        for r in emulator.requests_log()
        if r["path"].startswith(prefix) or r["path"] == prefix.rstrip("/")
    ]


def state_ids(project: Project) -> set[str]:
    """Token IDs of the state's resources not pending deletion."""
    return {r["outputs"]["token_id"] for r in project.resources() if not r.get("delete")}
