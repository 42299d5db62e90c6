"""One stack under the stand-in engine, with the CLI's operations: the easy way to test a stack."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from pulumi.runtime import Mocks

from .engine import (
    EngineMonitor,
    NoMocks,
    ProgramResult,
    run_destroy,
    run_program,
    run_refresh,
)
from .host import HostPool, ProviderHost
from .state import EngineState, Step

__all__ = ["Stack"]

Program = str | os.PathLike[str] | Callable[[], Any]


class Stack:
    """A stack of project ``project``: its config, its state, and ``up``, ``preview``, ``refresh``,
    ``destroy`` and ``taint`` as the Pulumi CLI runs them, with dynamic resources served by real
    provider hosts taken from ``hosts`` (one per operation, as the engine starts them).

    ``program`` is the default program for :meth:`up` and :meth:`preview` (a callable, or a
    program's ``__main__.py`` or directory). ``config`` is the stack config (``pulumi config
    set``; bare keys get the project's namespace), ``secret_config_keys`` the keys set with
    ``--secret``; both may be changed between operations. ``mocks`` answer the program's other
    resources and invokes (by default any is a test failure).

    Example::

        with HostPool(cwd=project_dir) as hosts:
            stack = Stack(hosts, project="my-project", program=project_dir,
                          config={"localskills:apiToken": token}, secret_config_keys={...})
            stack.up()
            stack.refresh()
    """

    def __init__(
        self,
        hosts: HostPool | ProviderHost,
        *,
        project: str,
        stack: str = "dev",
        program: Program | None = None,
        config: Mapping[str, Any] | None = None,
        secret_config_keys: Collection[str] = (),
        mocks: Mocks | None = None,
        state: EngineState | None = None,
    ) -> None:
        self.hosts = hosts
        self.project = project
        self.name = stack
        self.program = program
        self.config: dict[str, Any] = dict(config or {})
        self.secret_config_keys: set[str] = set(secret_config_keys)
        self.mocks = mocks if mocks is not None else NoMocks()
        self.state = state if state is not None else EngineState()
        self.last_provider_stderr = ""
        """What the provider hosts of the last operation wrote to stderr."""

    def _monitor(self) -> EngineMonitor:
        return EngineMonitor(
            self.mocks,
            self.hosts,
            config=self.config,
            secret_config_keys=self.secret_config_keys,
            state=self.state,
        )

    @contextlib.contextmanager
    def _operation(self) -> Iterator[EngineMonitor]:
        """One CLI operation's engine; what its hosts wrote to stderr is kept when it ends."""
        monitor = self._monitor()
        try:
            yield monitor
        finally:
            self.last_provider_stderr = monitor.provider_stderr

    def _program(self, program: Program | None) -> Program:
        chosen = program if program is not None else self.program
        if chosen is None:
            raise ValueError("no program: pass one to Stack(...) or to this call")
        return chosen

    def up(
        self,
        program: Program | None = None,
        *,
        refresh: bool = False,
        replace: Collection[str] = (),
    ) -> ProgramResult:
        """``pulumi up`` (``--refresh``, ``--replace URN``...)."""
        return self._run(program, refresh=refresh, replace=replace)

    def preview(self, program: Program | None = None) -> ProgramResult:
        """``pulumi preview``: the planned steps; nothing is created, updated or deleted."""
        return self._run(program, preview=True)

    def _run(self, program: Program | None, **options: Any) -> ProgramResult:
        with self._operation() as monitor:
            return run_program(
                self._program(program),
                monitor=monitor,
                project=self.project,
                stack=self.name,
                **options,
            )

    def refresh(self) -> list[Step]:
        """``pulumi refresh``, with the provider configured as by the last ``up``."""
        with self._operation() as monitor:
            return run_refresh(monitor=monitor, project=self.project)

    def destroy(self) -> list[Step]:
        """``pulumi destroy``, with the provider configured as by the last ``up``."""
        with self._operation() as monitor:
            return run_destroy(monitor=monitor, project=self.project)

    def taint(self, urn: str) -> None:
        """``pulumi state taint URN``: the next ``up`` replaces that resource."""
        self.state.taint(urn)

    def urn(self, type_: str, name: str) -> str:
        """The URN of a top-level resource of this stack."""
        return f"urn:pulumi:{self.name}::{self.project}::{type_}::{name}"
