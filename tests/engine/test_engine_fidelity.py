"""The stand-in engine (localskills_pulumi.testing) held to the real one, call by call.

Each scenario is one script of operations, run twice: through the real CLI, and through the
stand-in, each against a tenant of its own. A recorder in the provider host (tests/engine/
recorder/) logs every provider call either engine makes: method, resource, the payload keys
(olds, news, properties, inputs; ``__provider`` among them) and whether an ID was sent. The two
records must be equal: per operation, each resource's calls in order and the hosts the
operation started; calls to different resources may interleave, as up to 4 run at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from localskills_pulumi.testing import Stack
from localskills_pulumi.testing.emulator import Emulator, subprocess_environment
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.provider_client import ProviderError
from localskills_pulumi.testing.state import EngineError
from tests.engine.cli import Project
from tests.engine.conftest import MakeProject

RECORDER = Path(__file__).parent / "recorder"
PROGRAM = """
import pulumi
from localskills_pulumi import ScimToken

config = pulumi.Config()
tenant = config.require("tenant")
ScimToken("okta", tenant_id=tenant, name=config.get("name") or "Okta", expires_in_days=30,
          rotate_before_days=config.get_int("rotate") or 14,
          opts=pulumi.ResourceOptions(protect=config.get_bool("protect") or False,
                                      delete_before_replace=config.get_bool("dbr") or False,
                                      retain_on_delete=config.get_bool("retain") or False))
for n in range(config.get_int("more") or 0):
    ScimToken(f"more-{n}", tenant_id=tenant, name=f"More {n}", expires_in_days=30)
if config.get("adopt"):
    ScimToken("adopted", tenant_id=tenant, name="Adopted", expires_in_days=30,
              opts=pulumi.ResourceOptions(import_=config.get("adopt")))
"""
URN = "urn:pulumi:dev::engine-test::pulumi-python:dynamic/localskills:ScimToken::okta"
ADOPTED = URN.replace("::okta", "::adopted")
Calls = dict[str, Any]


class Engine(Protocol):
    """What a scenario does to a stack, as the CLI's commands: each returns whether the
    operation succeeded."""

    def set(self, key: str, value: str) -> None: ...
    def up(self, *, replace: str = "") -> bool: ...
    def preview(self) -> bool: ...
    def taint(self, urn: str) -> None: ...
    def refresh(self) -> bool: ...
    def destroy(self) -> bool: ...


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
        """What ``run`` returned and the calls it made: each resource's in order, each with
        ``host`` (the how-manieth host of the operation) in place of its process ID, and
        ``id`` reduced to whether one was sent."""
        outcome = run()
        lines = self.path.read_text(encoding="utf-8").splitlines()[self.read :]
        self.read += len(lines)
        hosts: dict[int, int] = {}
        per_resource: dict[str, list[dict[str, Any]]] = {}
        for entry in sorted(map(json.loads, lines), key=lambda entry: entry.pop("started")):
            del entry["ended"]
            entry["host"] = hosts.setdefault(entry.pop("pid"), len(hosts))
            if "id" in entry:
                entry["id"] = bool(entry["id"])
            per_resource.setdefault(entry.pop("resource", ""), []).append(entry)
        return {"succeeded": outcome, "calls": per_resource}


class RealEngine:
    def __init__(self, project: Project) -> None:
        self.project = project

    def set(self, key: str, value: str) -> None:
        self.project.run("config", "set", key, value)

    def up(self, *, replace: str = "") -> bool:
        args = ["--replace", replace] if replace else []
        return self.project.up(*args, check=False).returncode == 0

    def preview(self) -> bool:
        return self.project.run("preview", check=False).returncode == 0

    def taint(self, urn: str) -> None:
        self.project.run("state", "taint", urn, "--yes")

    # Without --skip-preview, refresh and destroy preview first, in a host of their own
    # (refresh's preview reads too); the stand-in plays the operation itself.
    def refresh(self) -> bool:
        return self.project.run("refresh", "--yes", "--skip-preview", check=False).returncode == 0

    def destroy(self) -> bool:
        return self.project.run("destroy", "--yes", "--skip-preview", check=False).returncode == 0


class StandIn:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack

    def _succeeds(self, operation: Callable[[], object]) -> bool:
        try:
            operation()
        except (EngineError, ProviderError):
            return False
        return True

    def set(self, key: str, value: str) -> None:
        self.stack.config[key] = value

    def up(self, *, replace: str = "") -> bool:
        return self._succeeds(lambda: self.stack.up(replace=[replace] if replace else []))

    def preview(self) -> bool:
        return self._succeeds(self.stack.preview)

    def taint(self, urn: str) -> None:
        self.stack.taint(urn)

    def refresh(self) -> bool:
        return self._succeeds(self.stack.refresh)

    def destroy(self) -> bool:
        return self._succeeds(self.stack.destroy)


Scenario = Callable[[Engine, CallLog, Emulator, str], list[Calls]]


def setting_then_up(engine: Engine, *settings: tuple[str, str]) -> Callable[[], bool]:
    """An operation: set the stack config keys, then ``up``."""

    def run() -> bool:
        for key, value in settings:
            engine.set(key, value)
        return engine.up()

    return run


def compare(
    make_project: MakeProject, emulator: Emulator, tmp_path: Path, scenario: Scenario
) -> list[Calls]:
    """Run ``scenario`` through the real CLI, then the stand-in; their records must be equal."""
    project = make_project(PROGRAM, emulator=emulator)
    real_log = CallLog(tmp_path / "real.jsonl")
    project.env.update(real_log.env(project.env.get("PYTHONPATH", "")))
    real_tenant = emulator.new_tenant()
    project.run("config", "set", "tenant", real_tenant)
    real = scenario(RealEngine(project), real_log, emulator, real_tenant)

    stand_in_log = CallLog(tmp_path / "stand-in.jsonl")
    env = stand_in_log.env(subprocess_environment().get("PYTHONPATH", ""))
    stand_in_tenant = emulator.new_tenant()
    with HostPool(env=env, cwd=project.folder, spares=0) as hosts:
        stack = Stack(
            hosts,
            project="engine-test",
            program=project.folder / "__main__.py",
            config={
                "localskills:apiToken": emulator.api_token,
                "localskills:baseUrl": emulator.base_url,
                "tenant": stand_in_tenant,
            },
            secret_config_keys={"localskills:apiToken"},
        )
        ours = scenario(StandIn(stack), stand_in_log, emulator, stand_in_tenant)

    assert len(ours) == len(real)
    for number, (engine, stand_in) in enumerate(zip(real, ours, strict=True), start=1):
        assert stand_in == engine, f"operation {number}: the stand-in differs from the engine"
    return real


def test_the_stand_in_matches_the_engine_through_a_tokens_life(
    make_project: MakeProject, clean_emulator: Emulator, tmp_path: Path
) -> None:
    """Create, no change, replace, preview, ``--replace``, taint, refresh, destroy."""

    def scenario(engine: Engine, log: CallLog, _: Emulator, __: str) -> list[Calls]:
        def rename() -> bool:
            engine.set("name", "Okta 2")
            return engine.up()

        def taint_and_up() -> bool:
            engine.taint(URN)
            return engine.up()

        return [
            log.operation(engine.up),
            log.operation(engine.up),
            log.operation(rename),
            log.operation(engine.preview),
            log.operation(lambda: engine.up(replace=URN)),
            log.operation(taint_and_up),
            log.operation(engine.refresh),
            log.operation(engine.destroy),
        ]

    real = compare(make_project, clean_emulator, tmp_path, scenario)
    assert [c["method"] for c in real[0]["calls"]["okta"]] == ["Check", "Create"]


def test_the_stand_in_matches_the_engine_on_failures_adoption_protect_and_many_tokens(
    make_project: MakeProject, clean_emulator: Emulator, tmp_path: Path
) -> None:
    """Five tokens at once, an in-place update, an ``import_`` adoption, a run that fails
    mid-replacement and the next that revokes the pending delete, a protected token's refused
    destroy, then the destroy once it is unprotected."""

    def scenario(engine: Engine, log: CallLog, emulator: Emulator, tenant: str) -> list[Calls]:
        def failing_replacement() -> bool:
            emulator.add_faults(
                [{"method": "DELETE", "path_prefix": f"/api/tenants/{tenant}/",
                  "action": "status", "status": 503, "times": 10}]
            )  # fmt: skip
            try:
                return setting_then_up(
                    engine, ("localskills:maxRetries", "0"), ("name", "Okta 2")
                )()
            finally:
                emulator.clear_faults()

        adopted = emulator.create_token(tenant, "Adopted", 30)["id"]
        return [
            log.operation(setting_then_up(engine, ("more", "4"))),
            log.operation(setting_then_up(engine, ("rotate", "7"))),
            log.operation(setting_then_up(engine, ("adopt", f"{tenant}/{adopted}"))),
            log.operation(failing_replacement),
            log.operation(setting_then_up(engine, ("localskills:maxRetries", "3"))),
            log.operation(setting_then_up(engine, ("adopt", ""), ("protect", "true"))),
            log.operation(engine.destroy),
            log.operation(setting_then_up(engine, ("protect", "false"))),
            log.operation(engine.destroy),
        ]

    real = compare(make_project, clean_emulator, tmp_path, scenario)
    failed = [number for number, record in enumerate(real) if not record["succeeded"]]
    assert failed == [3, 6]  # the replacement whose delete failed; the protected destroy
    assert "Delete" in [c["method"] for c in real[4]["calls"]["okta"]]  # the pending delete
    assert "Update" in [c["method"] for c in real[1]["calls"]["okta"]]  # rotate_before_days
    # The refused destroy still revokes the unprotected tokens, and never calls the protected.
    assert set(real[6]["calls"]) == {"", "more-0", "more-1", "more-2", "more-3"}


def test_the_stand_in_matches_the_engine_on_healing_rotation_and_replacement_options(
    make_project: MakeProject, tmp_path: Path
) -> None:
    """``--replace`` and taint of an adopted token with ``import_`` still set, a plain ``up``
    that heals a token revoked outside Pulumi, one that rotates a token inside its window (the
    emulator's clock moved), a ``delete_before_replace`` replacement, a refresh that drops a
    revoked token, and a destroy under ``retain_on_delete``."""

    def scenario(engine: Engine, log: CallLog, emulator: Emulator, tenant: str) -> list[Calls]:
        def revoke_then_up() -> bool:
            [live] = [t for t in emulator.list_tokens(tenant) if t["name"] == "Okta"]
            assert emulator.delete_token(tenant, live["id"]) == 200
            return engine.up()

        def later_up() -> bool:
            emulator.advance_clock(20 * 86400)  # 10 days left, rotate_before_days=14
            return engine.up()

        def retained_destroy() -> bool:
            setting_then_up(engine, ("retain", "true"))()
            return engine.destroy()

        def taint_adopted_and_up() -> bool:
            engine.taint(ADOPTED)
            return engine.up()

        def revoke_then_refresh() -> bool:
            [live] = [t for t in emulator.list_tokens(tenant) if t["name"] == "Okta 2"]
            assert emulator.delete_token(tenant, live["id"]) == 200
            return engine.refresh()

        adopted = emulator.create_token(tenant, "Adopted", 30)["id"]
        return [
            log.operation(setting_then_up(engine, ("adopt", f"{tenant}/{adopted}"))),
            log.operation(lambda: engine.up(replace=ADOPTED)),
            log.operation(taint_adopted_and_up),
            log.operation(revoke_then_up),
            log.operation(later_up),
            log.operation(setting_then_up(engine, ("dbr", "true"), ("name", "Okta 2"))),
            log.operation(revoke_then_refresh),
            log.operation(retained_destroy),
        ]

    with Emulator() as own_clock:  # the clock moves for this test only
        real = compare(make_project, own_clock, tmp_path, scenario)
    for replaced in (real[1], real[2]):  # the engine replaces create-before-delete; the
        # provider adopts the token again and keeps it live (tests/program/test_scim_engine_paths)
        assert [c["method"] for c in replaced["calls"]["adopted"]] == ["Check", "Create", "Delete"]
    for healed_or_rotated in (real[3], real[4]):
        methods = [c["method"] for c in healed_or_rotated["calls"]["okta"]]
        assert "Create" in methods and "Delete" in methods
    assert "Delete" not in [c["method"] for c in real[7]["calls"].get("okta", [])]
