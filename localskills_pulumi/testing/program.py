"""Running a Pulumi program the way the Python language host does, against a given monitor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import runpy
import sys
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi.runtime import run_in_stack, set_all_config

from ._sdk import configure_runtime
from .wire import config_string

__all__ = ["program_callable", "run_in_fresh_runtime"]


def program_callable(program: str | os.PathLike[str] | Callable[[], Any]) -> Callable[[], Any]:
    """``program`` as a callable: itself, or a function running the program file (or the
    ``__main__.py`` of a directory) with ``runpy`` as ``__main__``, its directory first on
    ``sys.path`` and as the working directory, and the program's own modules forgotten after."""
    if callable(program):
        return program
    path = Path(program)
    if path.is_dir():
        path = path / "__main__.py"
    path = path.resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no Pulumi program at {path}")
    directory = path.parent

    def run() -> None:
        old_cwd = os.getcwd()
        old_sys_path = list(sys.path)
        old_modules = set(sys.modules)
        sys.path.insert(0, str(directory))
        os.chdir(directory)
        try:
            runpy.run_path(str(path), run_name="__main__")
        finally:
            os.chdir(old_cwd)
            sys.path[:] = old_sys_path
            # Forget the program's own modules so another program may use the same names.
            for name in set(sys.modules) - old_modules:
                module_file = getattr(sys.modules[name], "__file__", None) or ""
                if module_file and Path(module_file).resolve().is_relative_to(directory):
                    del sys.modules[name]

    return run


def run_in_fresh_runtime(
    program: Callable[[], Any],
    monitor: Any,
    *,
    config: Mapping[str, Any],
    secret_keys: frozenset[str],
    project: str,
    stack: str,
    preview: bool,
    organization: str,
    logger: logging.Logger | None,
) -> None:
    """Run ``program`` in a fresh SDK runtime (settings, root stack, config, event loop) whose
    monitor is ``monitor``, inside ``run_in_stack`` as the language host does, so that exports
    reach the monitor through ``RegisterResourceOutputs``."""
    configure_runtime(
        monitor,
        project=project,
        stack=stack,
        preview=preview,
        organization=organization,
        logger=logger,
    )
    set_all_config({k: config_string(v) for k, v in config.items()}, list(secret_keys))

    async def main() -> None:
        result = program()
        if isinstance(result, Awaitable):
            await result

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_quiet_unobserved)
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(run_in_stack(main))
    finally:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        loop.close()


def _quiet_unobserved(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A failed registration fails every output of the resource; the futures nobody awaited
    # would each log the same error when collected. run_program re-raises it once instead
    # (the language host mutes these too, by silencing the asyncio logger).
    if str(context.get("message", "")).endswith("exception was never retrieved"):
        return
    loop.default_exception_handler(context)
