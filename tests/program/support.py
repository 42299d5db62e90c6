"""The root project's stack under the stand-in engine, through the real dynamic host."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from localskills_pulumi.testing import Stack as EngineStack
from localskills_pulumi.testing.emulator import Emulator
from localskills_pulumi.testing.engine import EngineState, ProgramResult
from localskills_pulumi.testing.host import HostPool
from localskills_pulumi.testing.state import Step

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "localskills-scim"


class Stack:
    """One stack of the root project: its program config (``config``), its state, and the CLI's
    operations. Like the CLI, each operation starts its own provider host, configured with that
    run's stack config (the last ``up``'s for refresh and destroy)."""

    def __init__(self, hosts: HostPool, emulator: Emulator, tenant_id: str) -> None:
        self.hosts = hosts
        self.state = EngineState()
        self.emulator = emulator
        self.api_token = emulator.api_token
        self.config: dict[str, Any] = {"tenantId": tenant_id}
        self.provider_stderr = ""

    def _engine(self) -> EngineStack:
        return EngineStack(
            self.hosts,
            project=PROJECT,
            config={
                "localskills:apiToken": self.api_token,
                "localskills:baseUrl": self.emulator.base_url,
                **self.config,
            },
            secret_config_keys={"localskills:apiToken"},
            state=self.state,
        )

    def _done(self, engine: EngineStack) -> None:
        self.provider_stderr = engine.last_provider_stderr

    def up(
        self, program: Any = ROOT / "__main__.py", preview: bool = False, **options: Any
    ) -> ProgramResult:
        engine = self._engine()
        try:
            return engine.preview(program) if preview else engine.up(program, **options)
        finally:
            self._done(engine)

    def refresh(self) -> list[Step]:
        engine = self._engine()
        try:
            return engine.refresh()
        finally:
            self._done(engine)

    def destroy(self) -> list[Step]:
        engine = self._engine()
        try:
            return engine.destroy()
        finally:
            self._done(engine)
