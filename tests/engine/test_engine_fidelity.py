"""The stand-in engine (localskills_pulumi.testing) held to the real one, call by call.

One program and one sequence of operations run twice: through the real CLI, and through the
stand-in, each against a tenant of its own. A recorder in the provider host (tests/engine/
recorder/) logs every provider call either engine makes: method, order, the payload keys
(olds, news, properties, inputs; ``__provider`` among them) and whether an ID was sent. Any
difference fails.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from localskills_pulumi.testing import Stack
from localskills_pulumi.testing.emulator import Emulator, subprocess_environment
from localskills_pulumi.testing.host import HostPool
from tests.engine.cli import Project
from tests.engine.conftest import MakeProject

RECORDER = Path(__file__).parent / "recorder"
PROGRAM = """
import pulumi
from localskills_pulumi import ScimToken

config = pulumi.Config()
ScimToken("okta", tenant_id=config.require("tenant"), name=config.get("name") or "Okta",
          expires_in_days=30, rotate_before_days=14)
"""
Calls = list[dict[str, Any]]
URN = "urn:pulumi:dev::engine-test::pulumi-python:dynamic/localskills:ScimToken::okta"


class CallLog:
    """The recorder's file, read one operation at a time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read = 0
        path.touch()

    def env(self, pythonpath: str) -> dict[str, str]:
        return {
            "TEST_PROVIDER_CALL_LOG": str(self.path),
            "PYTHONPATH": os.pathsep.join(p for p in (str(RECORDER), pythonpath) if p),
        }

    def operation(self, run: Callable[[], object]) -> Calls:
        """The calls ``run`` made, each with ``host`` (the how-manieth host of the operation)
        in place of its process ID, and ``id`` reduced to whether one was sent."""
        run()
        lines = self.path.read_text(encoding="utf-8").splitlines()[self.read :]
        self.read += len(lines)
        hosts: dict[int, int] = {}
        calls = []
        for entry in map(json.loads, lines):
            entry["host"] = hosts.setdefault(entry.pop("pid"), len(hosts))
            if "id" in entry:
                entry["id"] = bool(entry["id"])
            calls.append(entry)
        return calls


def real_engine_calls(project: Project, log: CallLog, tenant_id: str) -> list[Calls]:
    project.env.update(log.env(project.env.get("PYTHONPATH", "")))
    project.run("config", "set", "tenant", tenant_id)
    return [
        log.operation(project.up),
        log.operation(project.up),
        log.operation(lambda: (project.run("config", "set", "name", "Okta 2"), project.up())),
        log.operation(lambda: project.run("preview")),
        log.operation(lambda: project.up("--replace", URN)),
        log.operation(lambda: (project.run("state", "taint", URN, "--yes"), project.up())),
        # Without --skip-preview, refresh and destroy preview first, in a host of their own
        # (refresh's preview reads too); the stand-in plays the operation itself.
        log.operation(lambda: project.run("refresh", "--yes", "--skip-preview")),
        log.operation(lambda: project.run("destroy", "--yes", "--skip-preview")),
    ]


def stand_in_calls(folder: Path, emulator: Emulator, log: CallLog, tenant_id: str) -> list[Calls]:
    env = log.env(subprocess_environment().get("PYTHONPATH", ""))
    with HostPool(env=env, cwd=folder, spares=0) as hosts:
        stack = Stack(
            hosts,
            project="engine-test",
            program=folder / "__main__.py",
            config={
                "localskills:apiToken": emulator.api_token,
                "localskills:baseUrl": emulator.base_url,
                "tenant": tenant_id,
            },
            secret_config_keys={"localskills:apiToken"},
        )

        def rename() -> None:
            stack.config["name"] = "Okta 2"
            stack.up()

        return [
            log.operation(stack.up),
            log.operation(stack.up),
            log.operation(rename),
            log.operation(stack.preview),
            log.operation(lambda: stack.up(replace=[URN])),
            log.operation(lambda: (stack.taint(URN), stack.up())),
            log.operation(stack.refresh),
            log.operation(stack.destroy),
        ]


def test_the_stand_in_makes_the_real_engines_provider_calls(
    make_project: MakeProject, clean_emulator: Emulator, tmp_path: Path
) -> None:
    project = make_project(PROGRAM)
    real = real_engine_calls(project, CallLog(tmp_path / "real.jsonl"), clean_emulator.new_tenant())
    stand_in = stand_in_calls(
        project.folder, clean_emulator, CallLog(tmp_path / "stand-in.jsonl"),
        clean_emulator.new_tenant(),
    )  # fmt: skip

    operations = [
        "up (create)", "up (no change)", "up (replace)", "preview", "up --replace",
        "taint, up", "refresh", "destroy",
    ]  # fmt: skip
    for operation, engine, ours in zip(operations, real, stand_in, strict=True):
        assert ours == engine, f"{operation}: the stand-in's calls differ from the engine's"
    assert [c["method"] for c in real[0]] == ["Configure", "Check", "Create"]
