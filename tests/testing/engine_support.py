"""Running echo programs through the stand-in engine and seeing which provider calls they made."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs, Mocks

from localskills_pulumi.testing.engine import (
    EngineMonitor,
    EngineState,
    ProgramResult,
    run_destroy,
    run_program,
    run_refresh,
)
from localskills_pulumi.testing.host import HostPool, ProviderHost
from localskills_pulumi.testing.state import Step
from localskills_pulumi.testing.wire import urn
from tests.testing.echo_provider import ECHO_TYPE, Echo, read_log

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROJECT = "echo"
CONFIG = {"greeting": "hi", "token": "tok"}
SECRET_KEYS = ["token"]


class RecordingMocks(Mocks):
    """Mocks for non-dynamic resources; records what reached them."""

    def __init__(self) -> None:
        self.new_resources: list[MockResourceArgs] = []

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.new_resources.append(args)
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class Engine:
    """One stack: runs programs, refreshes and destroys against one state, with hosts from
    ``hosts``, and logs which provider calls each operation made (``calls``, without the
    ``configure`` calls, which are in ``configures``)."""

    def __init__(self, hosts: HostPool | ProviderHost, log_path: Path) -> None:
        self.hosts = hosts
        self.log_path = log_path
        self.state = EngineState()
        self.mocks = RecordingMocks()
        self.config: dict[str, Any] = dict(CONFIG)
        self.calls: list[dict[str, Any]] = []
        self.configures: list[dict[str, Any]] = []
        self.stderr = ""

    def _monitor(self) -> EngineMonitor:
        return EngineMonitor(
            self.mocks,
            self.hosts,
            config=self.config,
            secret_config_keys=SECRET_KEYS,
            state=self.state,
        )

    def _logged(self, operation: Callable[[EngineMonitor], Any]) -> Any:
        monitor = self._monitor()
        since = len(read_log(self.log_path))
        try:
            return operation(monitor)
        finally:
            calls = read_log(self.log_path)[since:]
            self.calls = [c for c in calls if c["method"] != "configure"]
            self.configures = [c for c in calls if c["method"] == "configure"]
            self.stderr = monitor.provider_stderr

    def run(self, program: Any, **kwargs: Any) -> ProgramResult:
        """``pulumi up`` (``preview=True``: ``pulumi preview``; ``refresh``, ``replace``)."""
        return self._logged(
            lambda monitor: run_program(program, monitor=monitor, project=PROJECT, **kwargs)
        )

    def refresh(self) -> list[Step]:
        """``pulumi refresh``."""
        return self._logged(lambda monitor: run_refresh(monitor=monitor, project=PROJECT))

    def destroy(self) -> list[Step]:
        """``pulumi destroy``."""
        return self._logged(lambda monitor: run_destroy(monitor=monitor, project=PROJECT))

    def methods(self, name: str | None = None) -> list[str]:
        """The provider methods called in the last operation, for inputs named ``name``."""
        return [c["method"] for c in self.calls if name is None or c["props"].get("name") == name]

    def pids(self) -> set[int]:
        """The host processes that served the last operation's calls."""
        return {c["pid"] for c in self.calls}


def U(name: str) -> str:
    return urn(ECHO_TYPE, name, project=PROJECT, stack="dev")


def echo_program(name: str, props: dict[str, Any], **opts: Any) -> Callable[[], None]:
    """A program with one Echo resource ``name``, exporting its id, name, secretOut, greeting
    (and value, when given); ``opts`` are resource options."""

    def program() -> None:
        r = Echo(name, props, pulumi.ResourceOptions(**opts) if opts else None)
        pulumi.export("id", r.id)
        pulumi.export("name", r.name)
        pulumi.export("secretOut", r.secretOut)
        pulumi.export("greeting", r.greeting)
        if "value" in props:
            pulumi.export("value", r.value)

    return program


def echoes(names: Collection[str], **props: Any) -> Callable[[], None]:
    """A program with one independent Echo resource per name, each with ``props``."""

    def program() -> None:
        for name in names:
            Echo(name, {"name": name, **props})

    return program
